// The timeline panel's state from a profile: the live-bytes curve (downsampled for drawing, the
// peak kept), phase spans, the peak, the measured series when a run exists, the "live at the
// peak" table grouped by line, a summary, the model card, the settings controls and the profile
// from before the last fix. Plain data in the webview protocol's types.
import { modelKind } from '../analysis/model-kind';
import type { ModelCard } from '../analysis/model-card';
import { isTorchMeasured } from '../engine/measured-torch';
import { CATEGORIES, type Category, type Profile, type TimelinePoint } from '../engine/profile';
import { estimateVsMeasured } from '../engine/difference-wording';
import { formatBytes, formatCount } from '../engine/units';
import type {
  AnalysedSettings, ChartPoint, LiveRow, MeasuredSeries, ModelKindName, PanelState, PhaseSpan, SettingControl, SummaryItem,
} from '../../webview/protocol';
import { PROTOCOL_VERSION } from '../../webview/protocol';
import type { Budget } from './budget';
import { downsampleIndices, link } from './chart-points';
import { fixComparison, type FixRecord } from './fix-comparison';
import { modelCardView } from './model-card-view';
import { shareOfPeak } from './share';

export { downsampleIndices, link };

/** Most points drawn; longer timelines keep the largest point of each bucket. */
export const MAX_CHART_POINTS = 1500;
/** Rows of the "live at the peak" table. */
export const MAX_LIVE_ROWS = 40;

export const CATEGORY_LABELS: Record<Category, string> = {
  weights: 'weights', activations: 'activations', kvCache: 'KV cache', gradients: 'gradients',
  optimizerState: 'optimizer state', optimizerStep: 'optimizer step temporaries', inputs: 'inputs', outputs: 'outputs', other: 'other',
};

export interface PanelStateOptions {
  documentUri: string;
  title: string;
  budget: Budget | null;
  maxPoints?: number;
  /** The front end that read the model (default: from the source's file extension). */
  kind?: ModelKindName;
  card?: ModelCard | null;
  controls?: SettingControl[];
  /** The fix this profile follows, whose previous profile is drawn beside it. */
  fix?: FixRecord | null;
  /** Changes with each new profile (default 0). */
  profileId?: number;
  canMeasure?: boolean;
}

/** The settings the profile was made with; batch and seq are null where the model has no such dim. */
export function analysedSettings(profile: Profile, card: ModelCard | null): AnalysedSettings {
  const s = profile.settings;
  return {
    mode: s.mode,
    batch: card && !card.uses.batch ? null : s.batch,
    seq: card && !card.uses.sequence ? null : s.seq,
    dtype: s.dtype,
    optimizer: s.mode === 'train' ? s.optimizer : null,
  };
}

export function phaseSpans(timeline: readonly TimelinePoint[]): PhaseSpan[] {
  const spans: PhaseSpan[] = [];
  for (const p of timeline) {
    const last = spans[spans.length - 1];
    if (last && last.phase === p.phase && last.end === p.index - 1) last.end = p.index;
    else spans.push({ phase: p.phase, start: p.index, end: p.index });
  }
  return spans;
}

/** Index of the step with the most live bytes (the first, on a tie). */
export function peakIndex(timeline: readonly TimelinePoint[]): number {
  let best = -1;
  for (let i = 0; i < timeline.length; i++) if (best < 0 || timeline[i].liveBytes > timeline[best].liveBytes) best = i;
  return best;
}

/**
 * The run's arena figures do not hold the weights and the inputs the caller owns, so each
 * measured point adds the estimate's weights and inputs at that step to be read against the
 * estimated total: measured(step) = arena in use after the node + weights(step) + inputs(step).
 */
export function measuredSeries(profile: Profile): MeasuredSeries | null {
  const m = profile.measured;
  // A PyTorch run has no per-node series to place on the estimate's steps.
  if (!m || isTorchMeasured(m) || m.perNode.length === 0) return null;
  const stepOf = new Map<string, TimelinePoint>();
  for (const p of profile.timeline) if (p.phase === 'forward' && !stepOf.has(p.node)) stepOf.set(p.node, p);
  const points: Array<{ index: number; bytes: number }> = [];
  for (const n of m.perNode) {
    const step = stepOf.get(n.node);
    if (!step) continue;
    points.push({ index: step.index, bytes: n.inUseBytes + step.byCategory.weights + step.byCategory.inputs });
  }
  if (points.length === 0) return null;
  points.sort((a, b) => a.index - b.index);
  return {
    label: `measured on ${m.ep} (arena in use + weights + inputs)`,
    points,
    peakBytes: m.peakBytes,
    peakLabel: formatBytes(m.peakBytes),
  };
}

export function liveAtPeakRows(profile: Profile, max = MAX_LIVE_ROWS): LiveRow[] {
  return profile.lines
    .filter((f) => f.peakBytes > 0)
    .sort((a, b) => b.peakBytes - a.peakBytes)
    .slice(0, max)
    .map((f) => {
      const source = f.file !== null && f.line !== null ? link({ file: f.file, line: f.line }) : null;
      const ops = Object.entries(f.ops).filter(([, b]) => b > 0).sort((a, b) => b[1] - a[1]).slice(0, 3);
      return {
        source,
        label: source ? source.label : f.scope || '(model)',
        scope: f.scope,
        peakBytes: f.peakBytes,
        peakLabel: formatBytes(f.peakBytes),
        share: shareOfPeak(f.peakBytes, profile.peak.bytes),
        ops: ops.map(([op, b]) => `${op} ${formatBytes(b)}`).join(', '),
        repeats: f.repeats,
      };
    });
}

export function summaryItems(profile: Profile, budget: Budget | null): SummaryItem[] {
  const t = profile.totals;
  const items: SummaryItem[] = [
    { label: 'Peak', value: `${formatBytes(profile.peak.bytes)} (${profile.peak.phase}, ${profile.peak.op})` },
    { label: 'Parameters', value: formatCount(profile.params) },
    { label: 'Weights', value: formatBytes(t.weightBytes) },
  ];
  if (t.kvCacheBytes > 0) items.push({ label: 'KV cache', value: formatBytes(t.kvCacheBytes) });
  if (profile.settings.mode === 'train') {
    items.push(
      { label: 'Saved for backward', value: formatBytes(t.savedActivationBytes) },
      { label: 'Gradients', value: formatBytes(t.gradientBytes) },
      { label: `Optimizer state (${profile.settings.optimizer})`, value: formatBytes(t.optimizerStateBytes) },
    );
  }
  items.push({ label: 'Arena (offset plan)', value: `${formatBytes(profile.plan.offsetPlanBytes)}, ${(profile.plan.fragmentation * 100).toFixed(1)}% fragmentation` });
  const held = profile.ortHeld;
  if (held) {
    const weights = held.deviceBytes - held.prepackedBytes - held.arenaHeldBytes + held.reservedBytes;
    items.push({
      label: 'Device memory needed (ONNX Runtime)',
      value: `${formatBytes(held.deviceBytes)}: weights ${formatBytes(weights)} + prepacked ${formatBytes(held.prepackedBytes)} + arena held ${formatBytes(held.arenaHeldBytes)}`
        + ` (in use at peak ${formatBytes(held.arenaInUsePeakBytes)}, kernel scratch up to ${formatBytes(held.scratchPeakBytes)})`,
    });
  }
  if (profile.ortOptimised) items.push(optimisedItem(profile.ortOptimised));
  if (budget) {
    const over = profile.peak.bytes - budget.bytes;
    items.push({ label: 'Budget', value: over > 0 ? `${budget.label}, over by ${formatBytes(over)}` : `${budget.label}, ${formatBytes(-over)} to spare` });
  }
  if (profile.measured) {
    const cmp = profile.measured.comparison;
    // The PyTorch comparison signs its difference as (estimated - measured), ONNX Runtime's as (measured - estimated).
    const pct = cmp ? (isTorchMeasured(profile.measured) ? -cmp.differencePct : cmp.differencePct) : 0;
    const against = cmp ? ` (estimated for the arena ${formatBytes(cmp.estimatedPeakBytes)}: ${estimateVsMeasured(pct)})` : '';
    items.push({ label: `Measured (${profile.measured.ep})`, value: `${formatBytes(profile.measured.peakBytes)}${against}` });
  }
  return items;
}

export function panelState(profile: Profile, options: PanelStateOptions): PanelState {
  const used = CATEGORIES.filter((c) => profile.timeline.some((p) => p.byCategory[c] > 0));
  const categories = used.length > 0 ? used : (['activations'] as Category[]);
  const peakAt = peakIndex(profile.timeline);
  const keep = downsampleIndices(profile.timeline.map((p) => p.liveBytes), options.maxPoints ?? MAX_CHART_POINTS, peakAt);
  const points: ChartPoint[] = keep.map((i) => {
    const p = profile.timeline[i];
    return {
      index: p.index, liveBytes: p.liveBytes, stack: categories.map((c) => p.byCategory[c]),
      phase: p.phase, op: p.op, node: p.node, source: link(p.source),
    };
  });
  const peakPoint = peakAt >= 0 ? profile.timeline[peakAt] : undefined;
  const card = options.card ?? null;
  return {
    protocol: PROTOCOL_VERSION,
    documentUri: options.documentUri,
    profileId: options.profileId ?? 0,
    title: options.title,
    kind: options.kind ?? modelKind(profile.source) ?? 'onnx',
    analysed: analysedSettings(profile, card),
    controls: options.controls ?? [],
    canMeasure: options.canMeasure ?? false,
    categories,
    categoryLabels: categories.map((c) => CATEGORY_LABELS[c]),
    points,
    totalSteps: profile.timeline.length,
    phases: phaseSpans(profile.timeline),
    peak: {
      index: peakPoint?.index ?? 0,
      bytes: profile.peak.bytes,
      bytesLabel: formatBytes(profile.peak.bytes),
      phase: profile.peak.phase,
      op: profile.peak.op,
      node: profile.peak.node,
      source: link(profile.peak.source),
    },
    measured: measuredSeries(profile),
    comparison: fixComparison(options.fix ?? null, profile, options.maxPoints ?? MAX_CHART_POINTS),
    budgetBytes: options.budget?.bytes ?? null,
    budgetLabel: options.budget?.label ?? null,
    liveAtPeak: liveAtPeakRows(profile),
    summary: summaryItems(profile, options.budget),
    card: card ? modelCardView(card) : null,
    warnings: profile.warnings.slice(0, 20),
  };
}

/** ONNX Runtime's default session (level 'all'): its prepacked copies are reserved in the arena. */
function optimisedItem(h: NonNullable<Profile['ortOptimised']>): { label: string; value: string } {
  const weights = h.deviceBytes - h.arenaHeldBytes + h.reservedBytes;
  return {
    label: "Device memory needed (ONNX Runtime's default optimised session)",
    value: `${formatBytes(h.deviceBytes)}: weights ${formatBytes(weights)} + prepacked ${formatBytes(h.prepackedBytes)} + arena held ${formatBytes(h.arenaHeldBytes - h.prepackedBytes)}`
      + ` (in use at peak ${formatBytes(h.arenaInUsePeakBytes)}, memory pattern block ${formatBytes(h.memPatternBytes ?? 0)})`,
  };
}
