// The suggestion engine: candidates from candidates.ts, each applied to a copy of the graph and
// analysed again, ranked by the confirmed saving.
import type { Model } from '../graph';
import { analyzeModel } from '../analyze';
import { isMemlensError } from '../errors';
import { applyRewrites } from '../onnx-rewrite/apply';
import type { Profile, SourceRef } from '../profile';
import type { AnalysisSettings } from '../settings';
import { formatBytes } from '../units';
import { candidates, randomCaveats, randomOpsAt, type Candidate } from './candidates';
import { analysisContext, type AnalysisContext } from './context';
import { HOST_LINK } from './notes';
import { LABELS, type SuggestionLabels } from './labels';
import type { Suggestion, SuggestionSpec } from './types';

export interface SuggestOptions {
  source: string;
  /** The model's profile under `settings`, when already computed. */
  profile?: Profile;
  /** The text of actions and titles (English by default). */
  labels?: SuggestionLabels;
}

export function suggestRewrites(model: Model, settings: AnalysisSettings, options: SuggestOptions): Suggestion[] {
  const ctx = analysisContext(model, settings, options.source, options.profile);
  return rankSuggestions(candidates(ctx).map((c) => evaluate(ctx, c, options.labels ?? LABELS)));
}

/**
 * As suggestRewrites, awaiting `between` before each candidate is analysed again (each is a whole
 * analysis of a rewritten graph). A caller on an event loop hands a yield there, so a profile asked
 * for meanwhile runs between candidates instead of after all of them, and a cancel is read (by
 * `between` throwing) within one candidate rather than by terminating the thread.
 */
export async function suggestRewritesStepwise(
  model: Model, settings: AnalysisSettings, options: SuggestOptions, between: () => Promise<void>,
): Promise<Suggestion[]> {
  const ctx = analysisContext(model, settings, options.source, options.profile);
  const list: Suggestion[] = [];
  for (const c of candidates(ctx)) {
    await between();
    list.push(evaluate(ctx, c, options.labels ?? LABELS));
  }
  return rankSuggestions(list);
}

function rankSuggestions(list: Suggestion[]): Suggestion[] {
  const saving = (s: Suggestion) => s.reanalysed?.savingBytes ?? s.predicted.savingBytes;
  return [...list].sort((a, b) =>
    Number(saving(b) > 0) - Number(saving(a) > 0)
    || Number(a.cost.accuracy !== 'unchanged') - Number(b.cost.accuracy !== 'unchanged')
    || saving(b) - saving(a)
    || a.cost.recomputeShare - b.cost.recomputeShare);
}

function evaluate(ctx: AnalysisContext, c: Candidate, labels: SuggestionLabels): Suggestion {
  const peak = ctx.profile.peak.bytes;
  const warnings: string[] = [];
  const reanalysed = reanalyse(ctx, c, warnings);
  const caveats = randomCaveats(randomOpsAt(ctx.table.nodes, c.recomputed));
  for (const caveat of caveats) warnings.push(labels.caveat(caveat));
  const cost = {
    recomputeFlops: c.recomputeFlops,
    recomputeShare: ctx.forwardFlops > 0 ? c.recomputeFlops / ctx.forwardFlops : 0,
    transferBytes: c.transferBytes,
    transferSeconds: c.transferBytes / HOST_LINK.bytesPerSecond,
    link: c.transferBytes > 0 ? HOST_LINK.name : null,
    accuracy: c.note.accuracy,
    accuracyNote: c.note.note,
  };
  const action = labels.action(c.spec);
  const newPeak = reanalysed?.peakBytes ?? peak - c.predictedSaving;
  const description = [
    `Predicted: ${formatBytes(c.predictedSaving)} less at the current peak (${c.formula}).`,
    reanalysed ? `Re-analysed: peak ${formatBytes(reanalysed.peakBytes)} (${reanalysed.phase}, ${reanalysed.node}).` : '',
    c.note.note,
  ].filter(Boolean).join(' ');
  return withSpec({
    id: c.id,
    scope: c.scope,
    action,
    title: `${action}: peak ${formatBytes(peak)} → ${formatBytes(newPeak)}, ${costText(cost)}`,
    description,
    predicted: { peakBytes: peak - c.predictedSaving, savingBytes: c.predictedSaving, formula: c.formula },
    reanalysed,
    cost,
    caveats,
    warnings,
    rewrites: c.rewrites,
    settings: c.settings,
    sources: sourcesOf(ctx, c.nodes),
    nodes: c.nodes.map((p) => ctx.table.nodes[p].name),
  }, c.spec);
}

/** Figures with the spec that says what the suggestion changes. */
function withSpec(figures: Omit<Suggestion, keyof SuggestionSpec>, spec: SuggestionSpec): Suggestion {
  return { ...figures, ...spec };
}

/** The rewritten copy analysed again: its peak, or null with the reason among the warnings. */
function reanalyse(ctx: AnalysisContext, c: Candidate, warnings: string[]): Suggestion['reanalysed'] {
  const peak = ctx.profile.peak.bytes;
  try {
    const rewritten = applyRewrites(ctx.model, c.rewrites);
    const p = analyzeModel(rewritten, { ...ctx.settings, ...(c.settings ?? {}) }, { source: ctx.source, entry: ctx.profile.entry });
    if (p.peak.bytes >= peak) {
      warnings.push(`cannot lower the peak: the peak is at ${p.peak.phase} ${p.peak.op} ${p.peak.node}${where(p.peak.source)}, outside what this rewrite changes`);
    }
    return { peakBytes: p.peak.bytes, savingBytes: peak - p.peak.bytes, phase: p.peak.phase, node: p.peak.node };
  } catch (e) {
    if (!isMemlensError(e)) throw e;
    warnings.push(`not re-analysed: ${e.message}`);
    return null;
  }
}

export function costText(cost: Suggestion['cost']): string {
  const parts: string[] = [];
  if (cost.recomputeFlops > 0) parts.push(`+${Math.round(100 * cost.recomputeShare)}% forward compute`);
  if (cost.transferBytes > 0) parts.push(`${formatBytes(cost.transferBytes)} over ${cost.link} (${seconds(cost.transferSeconds)} per step at ${formatBytes(HOST_LINK.bytesPerSecond)}/s)`);
  if (cost.accuracy !== 'unchanged') parts.push('approximate results');
  return parts.length ? parts.join(', ') : 'no extra compute';
}

function seconds(s: number): string {
  return s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(s < 0.001 ? 3 : 1)} ms`;
}

function where(s: SourceRef | null): string {
  return s ? ` (${s.file}:${s.line})` : '';
}

function sourcesOf(ctx: AnalysisContext, nodes: number[]): SourceRef[] {
  const seen = new Set<string>();
  const out: SourceRef[] = [];
  for (const p of nodes) {
    const s = ctx.origins[p]?.source;
    if (!s) continue;
    const key = `${s.file}:${s.line}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ file: s.file, line: s.line });
  }
  return out;
}
