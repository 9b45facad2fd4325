// Estimate beside measurement, node by node. The arena counts what ONNX Runtime allocates while
// the graph runs: activations and graph outputs, not the initializers (prepacking is off in the
// attribution session) and not the inputs the caller owns (a past KV cache among them). So the
// estimate's live bytes at a node minus weights and caller-owned inputs are what the arena's
// in-use bytes after that node should be.
// A note's bytes come only from figures that could disagree with the measurement: the estimate's
// own simulation of ORT's planner and arena (`profile.ortHeld`), and ORT's reports of fusion and
// prepacking in the optimised session. A difference is "explained" only when those bytes bring the
// estimate within the target of the measurement; what is left is reported, never booked to a cause.
import { MemlensError } from '../engine/errors';
import type { PinnedComparison, Profile, SourceRef, TimelinePoint } from '../engine/profile';
import type { OrtHeldFigures } from '../engine/ort/held-figures';
import { differencePercent, estimateVsMeasured } from '../engine/difference-wording';
import { arenaShare, idealForwardPeak } from './estimate-peak';
import { formatBytes } from '../engine/units';
import { sourcesByNode } from './measured';
import { divergedBranches, pinnedComparison, pinnedLines, type DivergedBranch } from './compare-branches';
import type { NodeMeasurement, RunResult, SessionFigures } from './types';

/** Estimate and measurement agree when within this share of the measured figure... */
export const TARGET_PCT = 5;
/** ...or within this many bytes: a few arena chunks (256-byte minimum) of small bookkeeping tensors. */
export const TOLERANCE_FLOOR_BYTES = 1024;

/**
 * Computed causes carry bytes: `planner` (ORT's simulated allocation plan against the estimate's
 * ideal one), `arena-rounding` (simulated chunk bytes against simulated requests), `prepacked-weights`
 * (ORT's `parameter_size` drop). The others are observations and carry 0 bytes.
 */
export type NoteKind =
  | 'planner' | 'arena-rounding' | 'prepacked-weights' | 'fused'
  | 'folded' | 'not-estimated' | 'in-place-observed' | 'execution-order' | 'no-simulation' | 'no-arena-figures';

export interface Note {
  kind: NoteKind;
  /** Bytes this cause adds to the estimate, computed without the measurement (0 for observations). */
  bytes: number;
  detail: string;
}

/**
 * `within-target`: the estimate alone is within target; `explained`: the computed notes bring it
 * within; `not-explained`: they do not (see `unexplainedBytes`); `not-estimated`: the estimate has no
 * such node; `not-measured`: no kernel ran for it.
 */
export type Verdict = 'within-target' | 'explained' | 'not-explained' | 'not-estimated' | 'not-measured';

export interface NodeComparison {
  node: string;
  op: string;
  source: SourceRef | null;
  /** Estimated bytes the arena holds at this node: live bytes minus weights and inputs. */
  estimatedBytes: number | null;
  /** Bytes requested in use after the node ran (the arena's figure before rounding). */
  measuredBytes: number | null;
  /** measured - estimated. */
  differenceBytes: number | null;
  /** measured - (estimated + computed notes); null when there is nothing to compare. */
  unexplainedBytes: number | null;
  measuredOutputBytes: number | null;
  durationUs: number | null;
  notes: Note[];
  verdict: Verdict;
  /** Within target, by itself or with the computed notes. */
  explained: boolean;
}

export interface PeakComparison {
  estimatedBytes: number;
  measuredBytes: number;
  differenceBytes: number;
  /** (measured - estimated) / measured, in percent: positive when the estimate is below measured. */
  differencePct: number;
  withinTarget: boolean;
  /** measured - (estimated + computed notes). */
  unexplainedBytes: number;
  verdict: Verdict;
  explained: boolean;
  notes: Note[];
}

export interface FusedNode {
  node: string;
  /** The optimised kernel it became part of, when its name says so. */
  into: string | null;
}

export interface OptimisedComparison {
  peakBytes: number;
  wallMs: number;
  /** Optimised peak relative to the attribution session's, in percent. */
  peakChangePct: number;
  fused: FusedNode[];
  /** Weight bytes ORT copied into prepacked layouts (counted in the optimised arena). */
  prepackedBytes: number;
  notes: Note[];
  /** The optimised session's estimate (Profile.ortOptimised) against its measured peak; null without one. */
  estimate: OptimisedEstimateComparison | null;
}

/** Figures that could each disagree with the measurement: no residual is booked to a cause. */
export interface OptimisedEstimateComparison {
  estimatedBytes: number;
  measuredBytes: number;
  /** (measured - estimated) / measured, in percent: positive when the estimate is lower. */
  differencePct: number;
  withinTarget: boolean;
  /** Estimated prepacked copies beside the measured fall of `parameter_size` (both could be wrong). */
  estimatedPrepackedBytes: number;
  measuredPrepackedBytes: number;
}

/** A source line: the bytes its nodes produce, estimated and as ORT's `output_size` reports them. */
export interface LineComparison {
  file: string | null;
  line: number | null;
  scope: string;
  estimatedBytes: number;
  measuredOutputBytes: number;
  /** Kernel time of the line's nodes in the attribution session. */
  durationUs: number;
  /** The line's nodes that had no kernel event. */
  unmeasured: string[];
}

export interface Comparison {
  ep: string;
  targetPct: number;
  nodes: NodeComparison[];
  lines: LineComparison[];
  peak: PeakComparison;
  optimised: OptimisedComparison | null;
  /** If nodes whose run took another branch than the one the estimate sized. */
  branches: DivergedBranch[];
  /** The estimate re-analysed with those branches pinned, when it was given; `peak` stays the static bound's. */
  pinned: PinnedComparison | null;
  /** One line per finding, for the CLI and hovers. */
  summary: string[];
}

/**
 * Why an estimate cannot be compared with an ONNX Runtime run, or null when it can. ONNX Runtime
 * runs the forward graph only; a training step's forward also keeps what backward needs, so even
 * its forward phase is not what an inference run holds.
 */
export function ortComparisonRefusal(estimate: Profile): string | null {
  if (estimate.settings.mode !== 'train') return null;
  const torch = estimate.source.endsWith('.py') ? ', or --runtime torch to measure the training step in PyTorch' : '';
  return `${estimate.source}: the estimate is for a training step and ONNX Runtime runs inference only, so they are not compared; ` +
    `use --mode infer with --run${torch}`;
}

/**
 * `pinned`: the same model re-analysed with the branches the run took pinned (settings'
 * `branches`, see divergedBranches), compared beside the static estimate when a branch diverged.
 */
export function compareRun(estimate: Profile, run: RunResult, pinned: Profile | null = null): Comparison {
  const refusal = ortComparisonRefusal(estimate);
  if (refusal) throw new MemlensError(refusal);
  const sources = sourcesByNode(estimate);
  const forward = estimate.timeline.filter((p) => p.phase === 'forward');
  const estimated = new Map<string, { bytes: number; op: string }>();
  for (const p of forward) estimated.set(p.node, { bytes: arenaShare(p), op: p.op });
  const order = run.attribution.nodes;
  const position = new Map(order.map((n, i) => [n.node, i] as const));

  const reordered = reorderedNodes(forward.map((p) => p.node), order.map((n) => n.node));
  const held = estimate.ortHeld ?? null;
  const simulated = new Map((held?.perNode ?? []).map((n) => [n.node, n.requestedInUseBytes] as const));
  const ctx: NodeContext = { order, reordered, sources, simulated: held ? simulated : null };

  const nodes: NodeComparison[] = [];
  for (const p of forward) nodes.push(compareNode(p.node, p.op, estimated.get(p.node)!.bytes, position.get(p.node) ?? -1, ctx));
  order.forEach((m, i) => {
    if (!estimated.has(m.node)) nodes.push(compareNode(m.node, m.op, null, i, ctx));
  });

  const peak = comparePeak(estimate, forward, run.attribution);
  const optimised = run.optimised ? compareOptimised(run.attribution, run.optimised, estimated, estimate) : null;
  const branches = divergedBranches(estimate, run.branches);
  const pinnedPeak = pinned && branches.length > 0 ? pinnedComparison(pinned, run.attribution, branches, TARGET_PCT) : null;
  const summary = summarise(estimate, run, nodes, peak, optimised);
  summary.splice(1 + peak.notes.length, 0, ...pinnedLines(estimate, branches, pinnedPeak));
  const lines = compareLines(estimate, position, order);
  return { ep: run.ep, targetPct: TARGET_PCT, nodes, lines, peak, optimised, branches, pinned: pinnedPeak, summary };
}

function compareLines(estimate: Profile, position: Map<string, number>, order: NodeMeasurement[]): LineComparison[] {
  return estimate.lines.map((l) => {
    let measuredOutputBytes = 0;
    let durationUs = 0;
    const unmeasured: string[] = [];
    for (const name of l.nodes) {
      const at = position.get(name);
      if (at === undefined) {
        unmeasured.push(name);
        continue;
      }
      measuredOutputBytes += order[at].outputBytes;
      durationUs += order[at].durationUs;
    }
    return { file: l.file, line: l.line, scope: l.scope, estimatedBytes: l.bytes, measuredOutputBytes, durationUs, unmeasured };
  });
}

function tolerance(measuredBytes: number): number {
  return Math.max(TOLERANCE_FLOOR_BYTES, (Math.abs(measuredBytes) * TARGET_PCT) / 100);
}

/**
 * Nodes that ONNX Runtime ran after a different set of nodes than the estimate's schedule (its
 * topological order need not follow the file's); other tensors are live at them.
 */
export function reorderedNodes(estimated: string[], measured: string[]): Set<string> {
  const inBoth = new Set(measured.filter((n) => estimated.includes(n)));
  const e = estimated.filter((n) => inBoth.has(n));
  const m = measured.filter((n) => inBoth.has(n));
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let unmatched = 0; // size of the symmetric difference of the two prefixes
  const add = (name: string, side: number) => {
    const prev = seen.get(name) ?? 0;
    const next = prev + side;
    if (prev === 0) unmatched++;
    if (next === 0) unmatched--;
    if (next === 0) seen.delete(name);
    else seen.set(name, next);
  };
  for (let k = 0; k < e.length; k++) {
    if (unmatched !== 0 || e[k] !== m[k]) {
      out.add(e[k]);
      out.add(m[k]);
    }
    add(e[k], 1);
    add(m[k], -1);
  }
  return out;
}

interface NodeContext {
  order: NodeMeasurement[];
  reordered: Set<string>;
  sources: Map<string, SourceRef>;
  /** ORT's requested-in-use bytes at each node end as the estimate simulates them; null when not simulated. */
  simulated: Map<string, number> | null;
}

function within(differenceBytes: number, measuredBytes: number): boolean {
  return Math.abs(differenceBytes) <= tolerance(measuredBytes);
}

function sum(notes: Note[]): number {
  return notes.reduce((s, n) => s + n.bytes, 0);
}

function compareNode(node: string, op: string, estimatedBytes: number | null, at: number, ctx: NodeContext): NodeComparison {
  const m = at >= 0 ? ctx.order[at] : null;
  const measuredBytes = m ? (m.requestedInUseBytes ?? m.inUseBytes) : null;
  const differenceBytes = estimatedBytes !== null && measuredBytes !== null ? measuredBytes - estimatedBytes : null;
  const base = {
    node, op, source: ctx.sources.get(node) ?? null, estimatedBytes, measuredBytes, differenceBytes,
    measuredOutputBytes: m ? m.outputBytes : null, durationUs: m ? m.durationUs : null,
  };
  if (!m) {
    const detail = op === 'Constant'
      ? 'Constant became an initializer when the session loaded; it has no kernel'
      : 'no kernel ran for this node: ONNX Runtime removed it when loading the graph';
    return { ...base, unexplainedBytes: null, notes: [{ kind: 'folded', bytes: 0, detail }], verdict: 'not-measured', explained: false };
  }
  if (estimatedBytes === null) {
    const detail = `${m.op} node that ONNX Runtime ran but the estimate has no node for` + (measuredBytes !== null ? ` (${formatBytes(measuredBytes)} in use after it)` : '');
    return { ...base, unexplainedBytes: measuredBytes, notes: [{ kind: 'not-estimated', bytes: 0, detail }], verdict: 'not-estimated', explained: false };
  }
  if (differenceBytes === null || measuredBytes === null) {
    // No arena figures: nothing at this node to compare against.
    return { ...base, unexplainedBytes: null, notes: [], verdict: 'not-measured', explained: false };
  }
  if (within(differenceBytes, measuredBytes)) return { ...base, unexplainedBytes: differenceBytes, notes: [], verdict: 'within-target', explained: true };
  const notes = nodeNotes(node, estimatedBytes, m, at, ctx);
  const unexplainedBytes = differenceBytes - sum(notes);
  const explained = within(unexplainedBytes, measuredBytes);
  return { ...base, unexplainedBytes, notes, verdict: explained ? 'explained' : 'not-explained', explained };
}

/** Computed notes at a node that differs, then observations (0 bytes) that help to read what is left. */
function nodeNotes(node: string, estimatedBytes: number, m: NodeMeasurement, at: number, ctx: NodeContext): Note[] {
  const notes: Note[] = [];
  const simulated = ctx.simulated?.get(node);
  if (simulated !== undefined && simulated !== estimatedBytes) {
    notes.push({
      kind: 'planner',
      bytes: simulated - estimatedBytes,
      detail: `ONNX Runtime's allocation plan (simulated: reuse, in-place outputs, its execution order) has ${formatBytes(simulated)} requested here, the estimate's ideal plan ${formatBytes(estimatedBytes)}`,
    });
  } else if (ctx.simulated === null) {
    notes.push({ kind: 'no-simulation', bytes: 0, detail: "the estimate has no simulation of ONNX Runtime's allocation plan to compare with" });
  }
  const reused = reusedBytes(m);
  if (reused > 0 && m.outputBytes > 0) {
    notes.push({ kind: 'in-place-observed', bytes: 0, detail: `ONNX Runtime placed ${formatBytes(reused)} of this node's output in a buffer it already held (seen in the measurement, not counted)` });
  }
  if (ctx.reordered.has(node)) {
    notes.push({ kind: 'execution-order', bytes: 0, detail: `ONNX Runtime ran this node after other nodes than the estimate's schedule (position ${at + 1}); other tensors are live here` });
  }
  return notes;
}

/** Output bytes a node placed in a buffer that was already allocated (in place, or a planned reuse). */
function reusedBytes(n: NodeMeasurement): number {
  if (n.inUseDeltaBytes === null || n.outputBytes <= 0) return 0;
  return Math.max(0, n.outputBytes - Math.max(0, n.inUseDeltaBytes));
}

/** The simulated arena at the peak: requests above the ideal plan, then chunk rounding above the requests. */
function heldNotes(estimatedBytes: number, held: OrtHeldFigures): Note[] {
  const notes: Note[] = [];
  const planner = held.requestedPeakBytes - estimatedBytes;
  if (planner !== 0) {
    notes.push({
      kind: 'planner',
      bytes: planner,
      detail: `ONNX Runtime's allocation plan (simulated) requests ${formatBytes(held.requestedPeakBytes)} at its peak, the ideal plan ${formatBytes(estimatedBytes)}`,
    });
  }
  const rounding = held.arenaInUsePeakBytes - held.requestedPeakBytes;
  if (rounding !== 0) {
    notes.push({
      kind: 'arena-rounding',
      bytes: rounding,
      detail: `the BFC arena (simulated) holds ${formatBytes(held.arenaInUsePeakBytes)} in chunks at its peak for ${formatBytes(held.requestedPeakBytes)} requested`,
    });
  }
  return notes;
}

function comparePeak(estimate: Profile, forward: TimelinePoint[], s: SessionFigures): PeakComparison {
  const notes: Note[] = [];
  const estimatedBytes = idealForwardPeak(forward, s.peakSource);
  if (s.peakSource === 'rss-delta') {
    // Without arena figures the process grew by weights and activations alike.
    notes.push({ kind: 'no-arena-figures', bytes: 0, detail: 'no arena figures: measured is process RSS growth, which also holds runtime buffers' });
  } else {
    if (estimate.ortHeld) notes.push(...heldNotes(estimatedBytes, estimate.ortHeld));
    else notes.push({ kind: 'no-simulation', bytes: 0, detail: "the estimate has no simulation of ONNX Runtime's planner and arena: rounding and buffers kept for reuse are not computed" });
  }
  const measuredBytes = s.peakBytes;
  const differenceBytes = measuredBytes - estimatedBytes;
  const differencePct = differencePercent(measuredBytes, estimatedBytes);
  const withinTarget = Math.abs(differencePct) <= TARGET_PCT;
  const unexplainedBytes = differenceBytes - sum(notes);
  const explained = withinTarget || within(unexplainedBytes, measuredBytes);
  const verdict: Verdict = withinTarget ? 'within-target' : explained ? 'explained' : 'not-explained';
  return { estimatedBytes, measuredBytes, differenceBytes, differencePct, withinTarget, unexplainedBytes, verdict, explained, notes };
}

function compareOptimised(
  attribution: SessionFigures, optimised: SessionFigures, estimated: Map<string, { bytes: number; op: string }>, profile: Profile,
): OptimisedComparison {
  const optimisedNames = new Set(optimised.nodes.map((n) => n.node));
  const original = attribution.nodes.length > 0 ? attribution.nodes.map((n) => n.node) : [...estimated.keys()];
  const fused: FusedNode[] = original
    .filter((name) => !optimisedNames.has(name))
    .map((name) => ({ node: name, into: optimised.nodes.find((o) => namesNode(o.node, name))?.node ?? null }));
  // Prepacked weights leave `parameter_size` and move into the arena as packed copies; fused
  // kernels keep the parameters of what they absorbed, so totals compare where names do not.
  const parameters = (s: SessionFigures) => s.nodes.reduce((sum, n) => sum + n.parameterBytes, 0);
  const prepackedBytes = Math.max(0, parameters(attribution) - parameters(optimised));
  const notes: Note[] = [];
  if (fused.length > 0) {
    notes.push({ kind: 'fused', bytes: 0, detail: `${fused.length} node(s) fused or eliminated by graph optimisation: ${fused.slice(0, 5).map((f) => f.node + (f.into ? ` -> ${f.into}` : '')).join(', ')}${fused.length > 5 ? ', ...' : ''}` });
  }
  if (prepackedBytes > 0) {
    notes.push({ kind: 'prepacked-weights', bytes: prepackedBytes, detail: `${formatBytes(prepackedBytes)} of weights prepacked into arena copies` });
  }
  const base = attribution.peakBytes;
  return {
    peakBytes: optimised.peakBytes,
    wallMs: optimised.wallMs,
    peakChangePct: base > 0 ? ((optimised.peakBytes - base) / base) * 100 : 0,
    fused,
    prepackedBytes,
    notes,
    estimate: profile.ortOptimised ? optimisedEstimate(profile.ortOptimised.arenaInUsePeakBytes, optimised.peakBytes, profile.ortOptimised.prepackedBytes, prepackedBytes) : null,
  };
}

function optimisedEstimate(estimatedBytes: number, measuredBytes: number, estimatedPrepacked: number, measuredPrepacked: number): OptimisedEstimateComparison {
  // (measured - estimated) / measured, as every difference here reads (difference-wording.ts).
  const differencePct = measuredBytes > 0 ? ((measuredBytes - estimatedBytes) / measuredBytes) * 100 : 0;
  return {
    estimatedBytes, measuredBytes, differencePct,
    withinTarget: within(estimatedBytes - measuredBytes, measuredBytes),
    estimatedPrepackedBytes: estimatedPrepacked,
    measuredPrepackedBytes: measuredPrepacked,
  };
}

function optimisedEstimateLines(e: OptimisedEstimateComparison): string[] {
  const verdict = e.withinTarget ? `within ${TARGET_PCT}%` : `not within ${TARGET_PCT}%: ${formatBytes(Math.abs(e.estimatedBytes - e.measuredBytes))} not explained`;
  return [
    `  estimate of the optimised session (the graph ORT wrote, memory pattern, prepacked copies): ${formatBytes(e.estimatedBytes)} vs measured ${formatBytes(e.measuredBytes)}, ${estimateVsMeasured(e.differencePct)}: ${verdict}`,
    `  prepacked copies: estimated ${formatBytes(e.estimatedPrepackedBytes)}; parameter_size fell by ${formatBytes(e.measuredPrepackedBytes)} in ORT's profile`,
  ];
}

/** Fused kernels are named after a node they absorbed (`fused mm/MatMulAddFusion`, `mm_fused_Relu`). */
function namesNode(kernel: string, node: string): boolean {
  if (kernel === node) return false;
  const tokens = kernel.split(/[\s/]+/);
  return tokens.includes(node) || kernel.startsWith(`${node}_`);
}

function peakLine(run: RunResult, peak: PeakComparison): string {
  const verdict = peak.verdict === 'within-target'
    ? `within ${TARGET_PCT}%`
    : peak.verdict === 'explained'
      ? `explained: the computed notes bring it within ${TARGET_PCT}%`
      : `not explained: ${formatBytes(Math.abs(peak.unexplainedBytes))} ${peak.unexplainedBytes > 0 ? 'more measured than' : 'less measured than'} the estimate with its computed notes`;
  return `peak on ${run.ep} (optimisations disabled): estimated ${formatBytes(peak.estimatedBytes)}, measured ${formatBytes(peak.measuredBytes)} ` +
    `(${run.attribution.peakSource}), ${estimateVsMeasured(peak.differencePct)}: ${verdict}`;
}

function nodesLines(nodes: NodeComparison[]): string[] {
  const out: string[] = [];
  const names = (list: NodeComparison[]) => list.slice(0, 5).map((n) => n.node).join(', ') + (list.length > 5 ? ', ...' : '');
  const off = nodes.filter((n) => n.verdict === 'not-explained')
    .sort((x, y) => Math.abs(y.unexplainedBytes ?? 0) - Math.abs(x.unexplainedBytes ?? 0));
  if (off.length > 0) {
    const left = off.reduce((m, n) => Math.max(m, Math.abs(n.unexplainedBytes ?? 0)), 0);
    out.push(`${off.length} node(s) differ by more than ${TARGET_PCT}% and are not explained (largest ${formatBytes(left)} left): ${names(off)}`);
  }
  const computed = nodes.filter((n) => n.verdict === 'explained');
  if (computed.length > 0) out.push(`${computed.length} node(s) explained by the simulated allocation plan`);
  const missing = nodes.filter((n) => n.verdict === 'not-estimated');
  if (missing.length > 0) out.push(`${missing.length} node(s) ran in ONNX Runtime but are not estimated: ${names(missing)}`);
  const inPlace = nodes.filter((n) => n.notes.some((x) => x.kind === 'in-place-observed'));
  if (inPlace.length > 0) out.push(`${inPlace.length} node(s) wrote into a buffer ONNX Runtime already held (observed)`);
  return out;
}

/**
 * The optimised peak beside the attribution session's: in percent while that reads, as bytes and
 * a multiple once prepacked copies dwarf a small activation peak (a 1.5 KiB arena beside 1.2 MiB
 * of packed weights is "800x", not "80605.6% above").
 */
function relativeToAttribution(optimised: OptimisedComparison, attributionBytes: number): string {
  const change = Math.abs(optimised.peakChangePct);
  if (change < 0.05) return "the same as the attribution session's";
  const side = optimised.peakChangePct > 0 ? 'above' : 'below';
  if (change < 1000) return `${change.toFixed(1)}% ${side} the attribution session's`;
  const times = optimised.peakBytes / attributionBytes;
  return `${formatBytes(Math.abs(optimised.peakBytes - attributionBytes))} ${side} the attribution session's ${formatBytes(attributionBytes)} (${times.toFixed(0)}x)`;
}

function summarise(
  estimate: Profile, run: RunResult, nodes: NodeComparison[], peak: PeakComparison, optimised: OptimisedComparison | null,
): string[] {
  const out: string[] = [peakLine(run, peak)];
  for (const n of peak.notes) out.push(`  ${n.kind}${n.bytes !== 0 ? ` ${n.bytes > 0 ? '+' : '-'}${formatBytes(Math.abs(n.bytes))}` : ''}: ${n.detail}`);
  out.push(...nodesLines(nodes));
  if (optimised) {
    out.push(`optimised session: peak ${formatBytes(optimised.peakBytes)}, ${relativeToAttribution(optimised, run.attribution.peakBytes)}; ${optimised.wallMs.toFixed(2)} ms per run (level 'all', ONNX Runtime's default)`);
    if (optimised.estimate) out.push(...optimisedEstimateLines(optimised.estimate));
    for (const n of optimised.notes) out.push(`  ${n.kind}: ${n.detail}`);
  }
  if (estimate.unknownTensors > 0) out.push(`${estimate.unknownTensors} tensors had unknown sizes in the estimate`);
  return out;
}
