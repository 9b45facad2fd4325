// From suggestions (plain data from the engine) to what the editor offers on a line: titles with
// the re-analysed saving, the lines each suggestion belongs to, which one is preferred, which tie
// to an over-budget problem, and whether the file still is the text the figures describe.
import type { Caveat, Suggestion } from '../engine/suggest/types';
import type { Plan, PlanPoint } from '../engine/suggest/planner';
import { tierOf } from '../engine/suggest/tier';
import { caveatShort } from '../engine/suggest/labels';
import { formatBytes } from '../engine/units';
import { sameFile } from '../../language/same-file';

/** `14.2 → 9.8 GiB` when both sides share a unit, else `1.4 GiB → 476.3 MiB`. */
export function peakChange(before: number, after: number): string {
  const a = formatBytes(before);
  const b = formatBytes(after);
  const unit = (s: string) => s.slice(s.indexOf(' ') + 1);
  return unit(a) === unit(b) ? `${a.slice(0, a.indexOf(' '))} → ${b}` : `${a} → ${b}`;
}

/** The saving a suggestion is judged by: the re-analysed one, else the formula's. */
export function savingOf(s: Suggestion): number {
  return s.reanalysed?.savingBytes ?? s.predicted.savingBytes;
}

/** The peak a suggestion leads to: the re-analysed one, else the formula's. */
export function peakAfter(s: Suggestion, baselinePeakBytes: number): number {
  return s.reanalysed?.peakBytes ?? baselinePeakBytes - s.predicted.savingBytes;
}

/** `, recomputes Dropout: …` after the cost, or nothing. */
function caveatsText(caveats: readonly Caveat[]): string {
  return caveats.map((c) => `, ${caveatShort(c)}`).join('');
}

/**
 * `Checkpoint every layer of blocks (8 layers): peak 1.4 GiB → 476.3 MiB, +97% forward compute`,
 * then its caveats and, with a budget it fits, ` · fits the 1.0 GiB budget`.
 * The figure is the rewritten graph analysed again; without one the formula's figure is marked `≈`.
 */
export function actionTitle(s: Suggestion, baselinePeakBytes: number, costLabel: string, action: string = s.action, budgetBytes: number | null = null): string {
  const after = peakAfter(s, baselinePeakBytes);
  const approx = s.reanalysed ? '' : '≈';
  const fits = budgetBytes !== null && after <= budgetBytes ? ` · fits the ${formatBytes(budgetBytes)} budget` : '';
  return `${action}: peak ${approx}${peakChange(baselinePeakBytes, after)}, ${costLabel}${caveatsText(s.caveats)}${fits}`;
}

/**
 * What a fix costs, cheapest first: accuracy tier (as the planner orders it: exact, mixed
 * precision, 8-bit, 4-bit), then caveats, then recomputed share of the forward, then transfer
 * time, then the smaller change (one layer quantized rather than the whole model).
 */
export function cheaper(a: Suggestion, b: Suggestion): number {
  const tier = (s: Suggestion) => (s.cost.accuracy === 'unchanged' ? 0 : Math.max(1, tierOf(s)));
  return tier(a) - tier(b)
    || a.caveats.length - b.caveats.length
    || a.cost.recomputeShare - b.cost.recomputeShare
    || a.cost.transferSeconds - b.cost.transferSeconds
    || savingOf(a) - savingOf(b);
}

/** 1-based lines of `file` a suggestion belongs to: where its nodes come from and where its edits go. */
export function suggestionLines(s: Suggestion, file: string, editLines: readonly number[]): number[] {
  const own = s.sources.filter((r) => sameFile(r.file, file)).map((r) => r.line);
  return [...new Set([...editLines, ...own])].sort((a, b) => a - b);
}

export interface LineSuggestion {
  suggestion: Suggestion;
  /** The engine's cost text (`+31% forward compute`, `approximate results`). */
  costLabel: string;
  /** 1-based lines of the document the action shows on. */
  lines: number[];
  /** Title of the action (TypeScript: the engine's action; Python: the torch idiom). */
  action?: string;
}

export interface LineAction {
  suggestion: Suggestion;
  title: string;
  /** quickfix when it fixes an over-budget problem on this line, else a rewrite refactoring. */
  kind: 'quickfix' | 'refactor';
  isPreferred: boolean;
  /** Whether the suggestion changes what this line holds (its nodes are on the line). */
  fixesLine: boolean;
  /** Whether its peak is within the budget; null without a budget. */
  fits: boolean | null;
}

/**
 * The actions for one 1-based line, best first: suggestions that lower the peak and belong to the
 * line. The preferred one is the cheapest (cheaper()) that fits the budget; when none fits (or
 * there is no budget), the best that keeps results exact, else the best.
 */
export function actionsForLine(list: readonly LineSuggestion[], line: number, file: string, baselinePeakBytes: number, overBudgetHere: boolean, budgetBytes: number | null = null): LineAction[] {
  const here = list.filter((l) => l.lines.includes(line) && savingOf(l.suggestion) > 0);
  const fits = (l: LineSuggestion) => budgetBytes !== null && peakAfter(l.suggestion, baselinePeakBytes) <= budgetBytes;
  const fitting = here.filter(fits).sort((a, b) => cheaper(a.suggestion, b.suggestion));
  const exact = here.find((l) => l.suggestion.cost.accuracy === 'unchanged' && l.suggestion.caveats.length === 0)
    ?? here.find((l) => l.suggestion.cost.accuracy === 'unchanged');
  const best = fitting[0] ?? exact ?? here[0];
  return here.map((l) => {
    const fixesLine = l.suggestion.sources.some((r) => r.line === line && sameFile(r.file, file));
    return {
      suggestion: l.suggestion,
      title: actionTitle(l.suggestion, baselinePeakBytes, l.costLabel, l.action, budgetBytes),
      kind: overBudgetHere && fixesLine ? 'quickfix' : 'refactor',
      isPreferred: l === best,
      fixesLine,
      fits: budgetBytes === null ? null : fits(l),
    };
  });
}

export interface DocumentState {
  name: string;
  isDirty: boolean;
  /** sha256 of the document's text now. */
  textHash: string;
  /** sha256 of the file's text when the suggestions were computed (undefined: not part of the analysis). */
  analysedHash: string | undefined;
}

/** Why a rewrite must not be applied now, or null when the text is the one the figures describe. */
export function staleReason(d: DocumentState): string | null {
  if (d.isDirty) return `${d.name} has unsaved changes: save it first, so the figures describe its text`;
  if (d.analysedHash === undefined) return `${d.name} was not part of the analysed model`;
  if (d.textHash !== d.analysedHash) return `${d.name} changed since it was profiled: profile it again first`;
  return null;
}

// ---------------------------------------------------------------- Fit to Budget

export interface PlanPick {
  label: string;
  description: string;
  detail?: string;
  /** Peak of the frontier point (a budget that selects it again), or null for the chosen plan. */
  peakBytes: number | null;
  chosen: boolean;
}

/** Whether a plan point changes nothing (no global choice, no checkpointed layer). */
export function changesNothing(p: Pick<PlanPoint, 'globals' | 'checkpointed'>): boolean {
  return p.globals.length === 0 && p.checkpointed.length === 0;
}

/** What a plan point changes: `checkpoint 7 layers + Quantize …`, or `as is`. */
export function planWhat(p: Pick<PlanPoint, 'globals' | 'checkpointed'>): string {
  const parts = [...p.globals];
  if (p.checkpointed.length) parts.push(`checkpoint ${p.checkpointed.length} layer${p.checkpointed.length > 1 ? 's' : ''}`);
  return parts.join(' + ') || 'as is';
}

const pct = (x: number) => `+${Math.round(100 * x)}%`;

/** The quick pick of Fit to Budget: the chosen plan first, then the frontier (peak · recompute). */
export function planPicks(plan: Plan): PlanPick[] {
  const c = plan.chosen;
  // Exact math that recomputes random ops is not exact results: the caveat says so.
  const accuracy = (p: Pick<PlanPoint, 'accuracyTier' | 'caveats'>) => (p.accuracyTier > 0 ? 'approximate' : p.caveats.length ? p.caveats.map(caveatShort).join(', ') : 'exact');
  const out: PlanPick[] = [{
    label: `${plan.fits ? '$(check) Plan' : '$(warning) Lowest peak (over budget)'}: ${planWhat(c)}`,
    description: `peak ${peakChange(plan.baselinePeakBytes, c.verifiedPeakBytes)} · ${pct(c.recomputeShare)} recompute · ${accuracy(c)}`,
    detail: plan.message,
    peakBytes: null,
    chosen: true,
  }];
  for (const p of plan.frontier) {
    const same = p.peakBytes === c.peakBytes && p.recomputeShare === c.recomputeShare && p.accuracyTier === c.accuracyTier;
    if (same || changesNothing(p)) continue;
    out.push({
      label: `${formatBytes(p.peakBytes)} · ${pct(p.recomputeShare)} recompute`,
      description: `${planWhat(p)} · ${accuracy(p)}${p.peakBytes > plan.budgetBytes ? ' · over budget' : ''}`,
      peakBytes: p.peakBytes,
      chosen: false,
    });
  }
  return out;
}
