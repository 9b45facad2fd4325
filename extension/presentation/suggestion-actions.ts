// From suggestions (plain data from the engine) to what the editor offers on a line: titles with
// the re-analysed saving, the lines each suggestion belongs to, which one is preferred, which tie
// to an over-budget problem, and whether the file still is the text the figures describe.
import type { Suggestion } from '../engine/suggest/types';
import type { Plan, PlanPoint } from '../engine/suggest/planner';
import { formatBytes } from '../engine/units';
import { sameFile } from './source-label';

/** The Python rewrites of language/python/rewrites.ts, by name (kept in step with its RewriteKind). */
export type PythonRewriteKind = 'checkpoint' | 'offload-activations' | 'sdpa' | 'quantize-dynamic' | 'autocast-bf16' | 'chunked-cross-entropy';

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

/**
 * `Checkpoint every layer of blocks (8 layers): peak 1.4 GiB → 476.3 MiB, +97% forward compute`.
 * The figure is the rewritten graph analysed again; without one the formula's figure is marked `≈`.
 */
export function actionTitle(s: Suggestion, baselinePeakBytes: number, costLabel: string, action: string = s.action): string {
  const after = s.reanalysed?.peakBytes ?? baselinePeakBytes - s.predicted.savingBytes;
  const approx = s.reanalysed ? '' : '≈';
  return `${action}: peak ${approx}${peakChange(baselinePeakBytes, after)}, ${costLabel}`;
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
}

/**
 * The actions for one 1-based line, best first: suggestions that lower the peak and belong to the
 * line. The preferred one is the best that keeps results exact, else the best.
 */
export function actionsForLine(list: readonly LineSuggestion[], line: number, file: string, baselinePeakBytes: number, overBudgetHere: boolean): LineAction[] {
  const here = list.filter((l) => l.lines.includes(line) && savingOf(l.suggestion) > 0);
  const exact = here.find((l) => l.suggestion.cost.accuracy === 'unchanged');
  const best = exact ?? here[0];
  return here.map((l) => {
    const fixesLine = l.suggestion.sources.some((r) => r.line === line && sameFile(r.file, file));
    return {
      suggestion: l.suggestion,
      title: actionTitle(l.suggestion, baselinePeakBytes, l.costLabel, l.action),
      kind: overBudgetHere && fixesLine ? 'quickfix' : 'refactor',
      isPreferred: l === best,
      fixesLine,
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

// ---------------------------------------------------------------- edits

/** An edit as the rewrites produce it (0-based lines and UTF-16 characters, as editors count). */
export interface PlainEdit {
  start: { line: number; character: number };
  end: { line: number; character: number };
  newText: string;
}

/** The smallest single edit turning `before` into `after` (common prefix and suffix kept). */
export function spanEdit(before: string, after: string): PlainEdit | null {
  if (before === after) return null;
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let end = 0;
  while (end < before.length - start && end < after.length - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end++;
  const pos = (offset: number) => {
    const head = before.slice(0, offset);
    const line = head.split('\n').length - 1;
    return { line, character: offset - (head.lastIndexOf('\n') + 1) };
  };
  return { start: pos(start), end: pos(before.length - end), newText: after.slice(start, after.length - end) };
}

// ---------------------------------------------------------------- Python

export interface PythonTarget {
  kind: PythonRewriteKind;
  /** 1-based lines where the rewrite may apply (the rewrite itself decides). */
  lines: number[];
  /** The torch idiom, for the title. */
  action: string;
  /** Text the rewrite's edits must contain to be this suggestion (a block call wraps that block, not its caller). */
  expect?: string;
}

/** Whether a rewrite found at a target line is the one the suggestion means. */
export function rewriteFits(target: PythonTarget, edits: readonly { newText: string }[]): boolean {
  return edits.length > 0 && (target.expect === undefined || edits.some((e) => e.newText.includes(target.expect!)));
}

const lastSegment = (scope: string) => scope.split('.').filter((s) => s !== '*' && !/^\d+$/.test(s)).pop() ?? '';
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function linesMatching(text: string, re: RegExp): number[] {
  const out: number[] = [];
  text.split('\n').forEach((l, i) => {
    if (re.test(l)) out.push(i + 1);
  });
  return out;
}

/**
 * Where a suggestion has a PyTorch form in `text` (a .py model file): the layer loop or block
 * call for checkpointing and offload, the attention's lines for the fused kernel, the model's
 * construction for int8 weights, forward for bf16 autocast, the loss call for chunked loss.
 */
export function pythonTarget(s: Suggestion, text: string, file: string, modelFile: string): PythonTarget | null {
  const d = s.detail;
  const own = s.sources.filter((r) => sameFile(r.file, file)).map((r) => r.line);
  switch (s.kind) {
    case 'checkpoint-loop':
    case 'checkpoint-block':
    case 'offload-activations': {
      if (d.kind !== 'checkpoint' && d.kind !== 'offload') return null;
      if (d.child) {
        const lines = linesMatching(text, new RegExp(`\\bself\\.${escape(d.child)}\\s*\\(`));
        return d.kind === 'checkpoint'
          ? { kind: 'checkpoint', lines, action: `Checkpoint self.${d.child}(…) with torch.utils.checkpoint`, expect: `checkpoint(self.${d.child},` }
          : null;
      }
      if (!d.loop) return null;
      const lines = linesMatching(text, new RegExp(`^\\s*for\\s+.+\\s+in\\s+(enumerate\\()?self\\.${escape(lastSegment(d.loop))}\\b`));
      return d.kind === 'checkpoint'
        ? { kind: 'checkpoint', lines, action: `Checkpoint the layer loop over self.${lastSegment(d.loop)} (torch.utils.checkpoint)` }
        : { kind: 'offload-activations', lines, action: `Offload the saved activations of self.${lastSegment(d.loop)} to CPU (save_on_cpu)` };
    }
    case 'fused-attention':
      return { kind: 'sdpa', lines: own, action: 'Use F.scaled_dot_product_attention' };
    case 'quantize-weights':
      if (d.kind !== 'quantize' || d.format !== 'int8' || !d.modules.includes('model')) return null;
      return {
        kind: 'quantize-dynamic',
        lines: linesMatching(text, /^\s*(\w+\s*=\s*|return\s+)[A-Z]\w*\(/),
        action: 'Quantize nn.Linear weights to int8 (quantize_dynamic)',
      };
    case 'mixed-precision':
    {
      // The whole model's forward: in the profiled file, the last forward (the outermost module).
      if (d.kind !== 'precision' || d.dtype !== 'bf16' || !sameFile(file, modelFile)) return null;
      const forwards = linesMatching(text, /^\s*def\s+forward\s*\(/);
      return forwards.length ? { kind: 'autocast-bf16', lines: forwards.slice(-1), action: 'Run the model\'s forward in bf16 autocast' } : null;
    }
    case 'chunked-loss':
      return { kind: 'chunked-cross-entropy', lines: linesMatching(text, /\bcross_entropy\s*\(/), action: 'Chunk the cross-entropy over rows' };
    default:
      return null;
  }
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
  const accuracy = (tier: number) => (tier === 0 ? 'exact' : 'approximate');
  const out: PlanPick[] = [{
    label: `${plan.fits ? '$(check) Plan' : '$(warning) Lowest peak (over budget)'}: ${planWhat(c)}`,
    description: `peak ${peakChange(plan.baselinePeakBytes, c.verifiedPeakBytes)} · ${pct(c.recomputeShare)} recompute · ${accuracy(c.accuracyTier)}`,
    detail: plan.message,
    peakBytes: null,
    chosen: true,
  }];
  for (const p of plan.frontier) {
    const same = p.peakBytes === c.peakBytes && p.recomputeShare === c.recomputeShare && p.accuracyTier === c.accuracyTier;
    if (same || planWhat(p) === 'as is') continue;
    out.push({
      label: `${formatBytes(p.peakBytes)} · ${pct(p.recomputeShare)} recompute`,
      description: `${planWhat(p)} · ${accuracy(p.accuracyTier)}${p.peakBytes > plan.budgetBytes ? ' · over budget' : ''}`,
      peakBytes: p.peakBytes,
      chosen: false,
    });
  }
  return out;
}
