// One row per held-out model: each estimated figure beside the figure it is tested against, and
// the error as (estimate - measured) / measured. No residual is booked as an explanation here: a
// difference is reported with its size, whatever its cause.
import type { DivergedBranch } from '../../../extension/runner/compare-branches';
import type { EstimatedFigures } from './estimate-figures';
import type { Measurement } from './measure';

/** A node's requested bytes count as matching within this many bytes (issue 12's acceptance). */
export const NODE_TOLERANCE_BYTES = 1024;

export interface FigurePair {
  estimate: number;
  measured: number;
  /** (estimate - measured) / measured in percent; 0 when both are 0. */
  errorPct: number;
}

export interface NodeMatch {
  /** ORT node events with a requested-in-use figure. */
  measured: number;
  /** Of those, how many the estimate has within NODE_TOLERANCE_BYTES. */
  within: number;
  /** Of those, how many have no estimated figure at all (subgraph bodies, nodes ORT added). */
  missing: number;
  share: number;
}

export interface ModelRow {
  name: string;
  origin: string;
  ok: boolean;
  error?: string;
  weights?: FigurePair & { differenceBytes: number };
  arena?: FigurePair;
  /**
   * Where the run took another If branch than the estimate sized: the arena estimate re-analysed
   * with the branches the run took pinned, against the same measured peak (`arena` stays the static bound).
   */
  arenaPinned?: FigurePair & { branches: DivergedBranch[] };
  /** Against the largest peak of the fresh optimised sessions: the one a user has to plan for. */
  optimised?: FigurePair | null;
  /** The peaks of the fresh optimised sessions, in the order measured. */
  optimisedPeaks?: number[];
  nodes?: NodeMatch;
  unknownTensors?: number;
  warnings?: string[];
}

export function pair(estimate: number, measured: number): FigurePair {
  const errorPct = measured === 0 ? (estimate === 0 ? 0 : 100) : ((estimate - measured) / measured) * 100;
  return { estimate, measured, errorPct };
}

export function matchNodes(est: EstimatedFigures, m: Measurement): NodeMatch {
  let measured = 0, within = 0, missing = 0;
  for (const n of m.attribution.nodes) {
    if (n.requestedInUseBytes === null) continue;
    measured++;
    const e = est.requestedAfterNode.get(n.node);
    if (e === undefined) missing++;
    else if (Math.abs(e - n.requestedInUseBytes) <= NODE_TOLERANCE_BYTES) within++;
  }
  return { measured, within, missing, share: measured > 0 ? within / measured : 0 };
}

/** The largest of the sessions' peaks (the one measured session's without a list). */
export function largestPeak(m: Measurement): number | null {
  if (!m.optimised) return null;
  const peaks = m.optimisedPeaks ?? [];
  return peaks.reduce((a, b) => (b > a ? b : a), m.optimised.peakBytes);
}

/** The arena estimate with the branches a run took pinned, and those branches. */
export interface PinnedArena { arenaPeakBytes: number; branches: DivergedBranch[] }

export function compareModel(
  name: string, origin: string, est: EstimatedFigures, referenceWeights: number, m: Measurement, warnings: string[], pinned: PinnedArena | null = null,
): ModelRow {
  const weights = { ...pair(est.weightBytes, referenceWeights), differenceBytes: est.weightBytes - referenceWeights };
  return {
    name,
    origin,
    ok: true,
    weights,
    arena: pair(est.arenaPeakBytes, m.attribution.peakBytes),
    ...(pinned ? { arenaPinned: { ...pair(pinned.arenaPeakBytes, m.attribution.peakBytes), branches: pinned.branches } } : {}),
    optimised: m.optimised ? pair(est.optimisedPeakBytes, largestPeak(m)!) : null,
    optimisedPeaks: m.optimised ? (m.optimisedPeaks ?? [m.optimised.peakBytes]) : [],
    nodes: matchNodes(est, m),
    unknownTensors: est.unknownTensors,
    warnings,
  };
}

export interface ColumnSummary {
  models: number;
  medianAbsErrorPct: number;
  maxAbsErrorPct: number;
  below: number;
  above: number;
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function summarise(pairs: FigurePair[]): ColumnSummary {
  const abs = pairs.map((p) => Math.abs(p.errorPct));
  return {
    models: pairs.length,
    medianAbsErrorPct: median(abs),
    maxAbsErrorPct: abs.length ? Math.max(...abs) : 0,
    below: pairs.filter((p) => p.errorPct < 0).length,
    above: pairs.filter((p) => p.errorPct > 0).length,
  };
}

export interface Summary {
  models: number;
  failed: number;
  weightsExact: number;
  weights: ColumnSummary;
  arena: ColumnSummary;
  /** The arena column with each model whose run took another branch re-analysed with it pinned (the others as they are). */
  arenaPinned: ColumnSummary;
  /** Models whose run took another If branch than the estimate sized. */
  branchPinned: number;
  optimised: ColumnSummary;
  /** Nodes within tolerance over all measured nodes of all models. */
  nodesWithinShare: number;
  medianModelNodeShare: number;
  unknownTensors: number;
}

export function summariseRows(rows: ModelRow[]): Summary {
  const ok = rows.filter((r) => r.ok);
  const nodes = ok.map((r) => r.nodes!);
  const measured = nodes.reduce((s, n) => s + n.measured, 0);
  return {
    models: rows.length,
    failed: rows.length - ok.length,
    weightsExact: ok.filter((r) => r.weights!.differenceBytes === 0).length,
    weights: summarise(ok.map((r) => r.weights!)),
    arena: summarise(ok.map((r) => r.arena!)),
    arenaPinned: summarise(ok.map((r) => r.arenaPinned ?? r.arena!)),
    branchPinned: ok.filter((r) => r.arenaPinned).length,
    optimised: summarise(ok.flatMap((r) => (r.optimised ? [r.optimised] : []))),
    nodesWithinShare: measured > 0 ? nodes.reduce((s, n) => s + n.within, 0) / measured : 0,
    medianModelNodeShare: median(nodes.map((n) => n.share)),
    unknownTensors: ok.reduce((s, r) => s + (r.unknownTensors ?? 0), 0),
  };
}
