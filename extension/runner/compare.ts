// Estimate beside measurement, node by node. The arena counts what ONNX Runtime allocates while
// the graph runs: activations and graph outputs, not the initializers (prepacking is off in the
// attribution session) and not the inputs the caller owns (a past KV cache among them). So the
// estimate's live bytes at a node minus weights and caller-owned inputs are what the arena's
// in-use bytes after that node should be.
// Each difference that has a known cause gets a note with the bytes it accounts for.
import type { Profile, SourceRef, TimelinePoint } from '../engine/profile';
import { formatBytes } from '../engine/units';
import { sourcesByNode } from './measured';
import type { NodeMeasurement, RunResult, SessionFigures } from './types';

/** Estimate and measurement agree when within this share of the measured figure... */
export const TARGET_PCT = 5;
/** ...or within this many bytes: a few arena chunks (256-byte minimum) of small bookkeeping tensors. */
export const TOLERANCE_FLOOR_BYTES = 1024;

export type NoteKind =
  | 'fused' | 'folded' | 'in-place' | 'planner-reuse' | 'execution-order' | 'prepacked-weights' | 'arena-rounding'
  | 'not-estimated' | 'unexplained';

export interface Note {
  kind: NoteKind;
  /** Bytes this cause adds to the measured figure relative to the estimate (negative: removes). */
  bytes: number;
  detail: string;
}

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
  measuredOutputBytes: number | null;
  durationUs: number | null;
  notes: Note[];
  /** Within target, or every byte of the difference accounted for by the notes. */
  explained: boolean;
}

export interface PeakComparison {
  estimatedBytes: number;
  measuredBytes: number;
  differenceBytes: number;
  /** (measured - estimated) / measured, in percent. */
  differencePct: number;
  withinTarget: boolean;
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
  /** One line per finding, for the CLI and hovers. */
  summary: string[];
}

export function compareRun(estimate: Profile, run: RunResult): Comparison {
  const sources = sourcesByNode(estimate);
  const forward = estimate.timeline.filter((p) => p.phase === 'forward');
  const estimated = new Map<string, { bytes: number; op: string }>();
  for (const p of forward) estimated.set(p.node, { bytes: arenaShare(p), op: p.op });
  const order = run.attribution.nodes;
  const position = new Map(order.map((n, i) => [n.node, i] as const));

  const reordered = reorderedNodes(forward.map((p) => p.node), order.map((n) => n.node));
  const ctx = { order, reordered, sources };

  const nodes: NodeComparison[] = [];
  for (const p of forward) nodes.push(compareNode(p.node, p.op, estimated.get(p.node)!.bytes, position.get(p.node) ?? -1, ctx));
  order.forEach((m, i) => {
    if (!estimated.has(m.node)) nodes.push(compareNode(m.node, m.op, null, i, ctx));
  });

  const peak = comparePeak(estimate, forward, run.attribution, nodes);
  const optimised = run.optimised ? compareOptimised(run.attribution, run.optimised, estimated) : null;
  const summary = summarise(estimate, run, nodes, peak, optimised);
  const lines = compareLines(estimate, position, order);
  return { ep: run.ep, targetPct: TARGET_PCT, nodes, lines, peak, optimised, summary };
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

function arenaShare(p: TimelinePoint): number {
  return Math.max(0, p.liveBytes - p.byCategory.weights - p.callerBytes);
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
}

function compareNode(node: string, op: string, estimatedBytes: number | null, at: number, ctx: NodeContext): NodeComparison {
  const { order, sources } = ctx;
  const m = at >= 0 ? order[at] : null;
  const measuredBytes = m ? (m.requestedInUseBytes ?? m.inUseBytes) : null;
  const differenceBytes = estimatedBytes !== null && measuredBytes !== null ? measuredBytes - estimatedBytes : null;
  const notes: Note[] = [];
  if (!m) {
    notes.push({
      kind: 'folded',
      bytes: 0,
      detail: op === 'Constant'
        ? 'Constant became an initializer when the session loaded; it has no kernel'
        : 'no kernel ran for this node: ONNX Runtime removed it when loading the graph',
    });
  } else if (estimatedBytes === null) {
    notes.push({ kind: 'not-estimated', bytes: 0, detail: `${m.op} node added by ONNX Runtime (not in the graph)` });
  }
  const off = differenceBytes !== null && Math.abs(differenceBytes) > tolerance(measuredBytes ?? 0);
  if (m && off && differenceBytes !== null) {
    const reused = reusedBytes(m);
    if (differenceBytes < 0 && reused > 0) {
      notes.push({ kind: 'in-place', bytes: -reused, detail: `output written into an existing buffer: ${formatBytes(reused)} not allocated` });
    }
    if (differenceBytes > 0) {
      // The allocation planner keeps a dead tensor's buffer for a later tensor of the same size
      // instead of returning it to the arena; it counts as in use until that tensor is done.
      let held = 0;
      const by: string[] = [];
      for (const later of order.slice(at + 1)) {
        if (differenceBytes - held <= tolerance(measuredBytes ?? 0)) break;
        const r = reusedBytes(later);
        if (r === 0) continue;
        held += Math.min(r, differenceBytes - held);
        by.push(later.node);
      }
      if (held > 0) {
        const names = by.slice(0, 3).map((n) => `'${n}'`).join(', ') + (by.length > 3 ? ', ...' : '');
        notes.push({ kind: 'planner-reuse', bytes: held, detail: `${formatBytes(held)} of freed buffers kept for reuse by ${names} stay in use here` });
      }
    }
    const remaining = differenceBytes - notes.reduce((sum, n) => sum + n.bytes, 0);
    if (ctx.reordered.has(node) && Math.abs(remaining) > tolerance(measuredBytes ?? 0)) {
      notes.push({
        kind: 'execution-order',
        bytes: remaining,
        detail: `ONNX Runtime ran this node after other nodes than the estimate's schedule (position ${at + 1}), so other tensors are live here`,
      });
    }
    if (m.inUseBytes !== null && m.requestedInUseBytes !== null && m.inUseBytes > m.requestedInUseBytes) {
      const rounding = m.inUseBytes - m.requestedInUseBytes;
      notes.push({ kind: 'arena-rounding', bytes: 0, detail: `the arena rounds allocations up: ${formatBytes(rounding)} more in chunks than requested` });
    }
  }
  const accounted = notes.reduce((s, n) => s + n.bytes, 0);
  const explained = differenceBytes === null || !off || Math.abs(differenceBytes - accounted) <= tolerance(measuredBytes ?? 0);
  if (!explained && differenceBytes !== null) {
    notes.push({
      kind: 'unexplained',
      bytes: differenceBytes - accounted,
      detail: `measured ${formatBytes(measuredBytes ?? 0)} in use, estimated ${formatBytes(estimatedBytes ?? 0)}`,
    });
  }
  return {
    node,
    op,
    source: sources.get(node) ?? null,
    estimatedBytes,
    measuredBytes,
    differenceBytes,
    measuredOutputBytes: m ? m.outputBytes : null,
    durationUs: m ? m.durationUs : null,
    notes,
    explained,
  };
}

/** Output bytes a node placed in a buffer that was already allocated (in place, or a planned reuse). */
function reusedBytes(n: NodeMeasurement): number {
  if (n.inUseDeltaBytes === null || n.outputBytes <= 0) return 0;
  return Math.max(0, n.outputBytes - Math.max(0, n.inUseDeltaBytes));
}

function comparePeak(estimate: Profile, forward: TimelinePoint[], s: SessionFigures, nodes: NodeComparison[]): PeakComparison {
  const notes: Note[] = [];
  let estimatedBytes: number;
  let explainedByNodes = false;
  if (s.peakSource === 'rss-delta') {
    // Without arena figures the process grew by weights and activations alike.
    estimatedBytes = forward.reduce((m, p) => Math.max(m, p.liveBytes - p.callerBytes), 0);
    notes.push({ kind: 'arena-rounding', bytes: 0, detail: 'no arena figures: measured is process RSS growth, which also holds runtime buffers' });
  } else {
    estimatedBytes = forward.reduce((m, p) => Math.max(m, arenaShare(p)), 0);
    const requested = s.nodes.reduce((m, n) => Math.max(m, n.requestedInUseBytes ?? 0), 0);
    if (requested > 0 && s.peakBytes > requested) {
      notes.push({
        kind: 'arena-rounding',
        bytes: s.peakBytes - requested,
        detail: `arena peak ${formatBytes(s.peakBytes)} is in rounded chunks; ${formatBytes(requested)} was requested`,
      });
    }
    // The rest lies at the nodes of the two peaks: explained when their differences are.
    const atEstimated = nodes.reduce<NodeComparison | null>((b, n) => (n.estimatedBytes !== null && (b === null || n.estimatedBytes > (b.estimatedBytes ?? 0)) ? n : b), null);
    const atMeasured = nodes.reduce<NodeComparison | null>((b, n) => (n.measuredBytes !== null && (b === null || n.measuredBytes > (b.measuredBytes ?? 0)) ? n : b), null);
    const peakNodes = [...new Set([atEstimated, atMeasured].filter((n): n is NodeComparison => n !== null))];
    for (const n of peakNodes) {
      for (const note of n.notes) notes.push({ ...note, bytes: 0, detail: `at '${n.node}': ${note.detail}` });
    }
    explainedByNodes = peakNodes.length > 0 && peakNodes.every((n) => n.explained);
  }
  if (estimate.settings.mode === 'train') {
    notes.push({ kind: 'unexplained', bytes: 0, detail: 'the estimate is for training; ONNX Runtime ran inference only' });
  }
  const differenceBytes = s.peakBytes - estimatedBytes;
  const differencePct = s.peakBytes > 0 ? (differenceBytes / s.peakBytes) * 100 : estimatedBytes === 0 ? 0 : -100;
  const withinTarget = Math.abs(differencePct) <= TARGET_PCT;
  const accounted = notes.reduce((sum, n) => sum + n.bytes, 0);
  const explained = withinTarget || explainedByNodes || Math.abs(differenceBytes - accounted) <= tolerance(s.peakBytes);
  return { estimatedBytes, measuredBytes: s.peakBytes, differenceBytes, differencePct, withinTarget, explained, notes };
}

function compareOptimised(
  attribution: SessionFigures, optimised: SessionFigures, estimated: Map<string, { bytes: number; op: string }>,
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
  };
}

/** Fused kernels are named after a node they absorbed (`fused mm/MatMulAddFusion`, `mm_fused_Relu`). */
function namesNode(kernel: string, node: string): boolean {
  if (kernel === node) return false;
  const tokens = kernel.split(/[\s/]+/);
  return tokens.includes(node) || kernel.startsWith(`${node}_`);
}

function summarise(
  estimate: Profile, run: RunResult, nodes: NodeComparison[], peak: PeakComparison, optimised: OptimisedComparison | null,
): string[] {
  const out: string[] = [];
  const pct = `${peak.differencePct >= 0 ? '+' : ''}${peak.differencePct.toFixed(1)}%`;
  out.push(
    `peak on ${run.ep} (optimisations disabled): estimated ${formatBytes(peak.estimatedBytes)}, measured ${formatBytes(peak.measuredBytes)} ` +
      `(${run.attribution.peakSource}), ${pct}: ${peak.withinTarget ? `within ${TARGET_PCT}%` : peak.explained ? 'explained' : 'not explained'}`,
  );
  for (const n of peak.notes) out.push(`  ${n.kind}: ${n.detail}`);
  const off = nodes.filter((n) => !n.explained);
  if (off.length > 0) out.push(`${off.length} node(s) differ by more than ${TARGET_PCT}% without a known cause: ${off.slice(0, 5).map((n) => n.node).join(', ')}`);
  const inPlace = nodes.filter((n) => n.notes.some((x) => x.kind === 'in-place'));
  if (inPlace.length > 0) out.push(`${inPlace.length} node(s) reused an input buffer in place`);
  if (optimised) {
    out.push(`optimised session: peak ${formatBytes(optimised.peakBytes)} (${optimised.peakChangePct >= 0 ? '+' : ''}${optimised.peakChangePct.toFixed(1)}%), ${optimised.wallMs.toFixed(2)} ms per run`);
    for (const n of optimised.notes) out.push(`  ${n.kind}: ${n.detail}`);
  }
  if (estimate.unknownTensors > 0) out.push(`${estimate.unknownTensors} tensors had unknown sizes in the estimate`);
  return out;
}
