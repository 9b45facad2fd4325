// ONNX Runtime's sequential allocation plan (onnxruntime/core/framework/allocation_planner.cc,
// ComputeReuseCount, ComputeSingleStreamReusePlan, GenerateDeallocationPlan) for the session the
// runner measures: optimisations disabled, memory pattern off, one stream, sequential execution.
// Per node it says which outputs the arena must allocate and which buffers it releases after the
// node, so the BFC arena simulation (bfc-arena.ts) can replay the requests in ORT's order.
//
// Rules followed, per output in execution order:
// - a graph output is kAllocateOutput: its own buffer, never reused, held until the run ends;
//   except, in a Loop body, an Identity of a pre-existing value (a body input other than the
//   iteration number, an initializer, an outer-scope value), which shares it (kShare: ORT's
//   "not copy a pre-existing value to an output" of a Loop subgraph);
// - a view (kernel Alias: Reshape, Squeeze, ...) shares its input's buffer, whatever that is;
// - a MayInplace kernel (inplace-kernels.ts) shares its input's buffer when that buffer has no other use left and the
//   two have the same static size (SameSize);
// - else the most recently freed buffer of the same static size is reused (FindReusableTensor,
//   freelist_ front first; not for scalars or strings);
// - else kAllocate: a new arena request.
// A buffer's use count is the sum over the values that share it of their defs and uses
// (Reuse adds the reuser's count); it goes on the freelist when that count reaches 0. At run
// time a buffer is released after the last node reading any value that shares it; a buffer no
// node reads is released only when the run ends (GenerateDeallocationPlan makes no action for it).
import { dtypeBits, type Dim, type DType, type GraphNode } from '../graph';
import { VIEW_OPS } from '../memory/aliasing';
import { ORT_CPU_MAY_INPLACE } from './inplace-kernels';
import type { TensorRecord, TensorTable } from '../memory/tensor-table';
import { valueIds, type ValueIds } from './value-ids';

/** The static type ORT plans from: shapes inferred at load time, symbolic dims kept as names. */
export interface StaticType {
  dtype: DType;
  shape: Dim[] | null;
}

export interface PlannedAllocation {
  /** Buffer id (index into OrtAllocationPlan.buffers). */
  buffer: number;
  bytes: number;
}

export interface PlannedStep {
  node: number;
  /** New arena requests made by the node's kernel, in output order. */
  allocate: PlannedAllocation[];
  /** Buffers released after the node ran. */
  release: number[];
}

export type PlannedKind = 'allocate' | 'allocate-output';

export interface PlannedBuffer {
  /** The value that defines the buffer. */
  tensor: string;
  bytes: number;
  kind: PlannedKind;
  /** Other values stored in it (views, in-place outputs, reused dead buffers). */
  sharedBy: string[];
}

export interface OrtAllocationPlan {
  steps: PlannedStep[];
  buffers: PlannedBuffer[];
  /** Buffers still held when the run ends (graph outputs, values no node reads), released then. */
  heldToEnd: number[];
}

const NO_BUFFER = -1;

const isDefaultDomain = (n: GraphNode) => n.domain === '' || n.domain === 'ai.onnx';

/** The freelist key: element bits and dims, or null when SameSize can match nothing (unknown, scalar, string). */
export function sizeKey(t: StaticType | undefined): string | null {
  if (!t?.shape || t.shape.length === 0 || t.dtype === 'string') return null;
  if (t.shape.some((d) => d === null || d === '')) return null;
  return `${dtypeBits(t.dtype)}|${t.shape.map((d) => (typeof d === 'number' ? String(d) : `$${d}`)).join(',')}`;
}

/** SameSize: same element size (strings never), same rank, each dim the same value or the same symbolic name. */
export function sameSize(a: StaticType | undefined, b: StaticType | undefined): boolean {
  if (!a?.shape || !b?.shape || a.shape.length !== b.shape.length) return false;
  if (a.dtype === 'string' || b.dtype === 'string' || dtypeBits(a.dtype) !== dtypeBits(b.dtype)) return false;
  return a.shape.every((d, i) => d !== null && d !== '' && d === b.shape?.[i]);
}

/** Unset in PlanState.bufferOf: the value has no buffer yet (a pre-existing value, or not defined so far). */
const UNSET = -2;

interface PlanState {
  ids: ValueIds;
  /** Value id -> buffer id; NO_BUFFER for a value sharing a pre-existing one (graph input, initializer); UNSET before it is defined. */
  bufferOf: Int32Array;
  useCount: number[];
  /** Use counts per value id (ComputeReuseCount), moved onto a buffer when the value is defined. */
  valueUses: Int32Array;
  /**
   * freelist_, grouped by static size: SameSize is an equivalence on (element size, shape), so
   * ORT's front-to-back scan for the first same-size entry takes the group's most recent one.
   */
  freelist: Map<string, number[]>;
  /** Each buffer's freelist key (null: never reusable). */
  sizeKey: (string | null)[];
  buffers: PlannedBuffer[];
  /** A Loop body's iteration-number input; null for any other graph. */
  loopIteration: string | null;
}

/** ComputeReuseCount: one use per read and per definition of a value, one more for a graph output. */
function initialUses(ids: ValueIds): Int32Array {
  const uses = new Int32Array(ids.count);
  for (const i of ids.reads) if (i >= 0) uses[i]++;
  for (const o of ids.outs) if (o >= 0) uses[o]++;
  for (const o of ids.graphOutputIds) uses[o]++;
  return uses;
}

/**
 * Kernels registered with MayInplace(3, 0): the fused Conv writes into its Sum input (the Add it
 * absorbed) when that buffer has no other use (contrib_ops/cpu/nchwc_ops.cc, fused_conv.cc).
 */
const SUM_INPLACE = new Set(['com.microsoft.nchwc:Conv', 'com.microsoft:FusedConv']);

const bufferOf = (s: PlanState, id: number): number => (id < 0 || s.bufferOf[id] === UNSET ? NO_BUFFER : s.bufferOf[id]);

/** The output shares buffer `b` (NO_BUFFER: a pre-existing value's memory): the buffer takes on its uses. */
function share(s: PlanState, b: number, output: string, uses: number): number {
  if (b !== NO_BUFFER) {
    s.useCount[b] += uses;
    s.buffers[b].sharedBy.push(output);
  }
  return b;
}

/** Which buffer an output takes: shared with an input, a dead buffer of the same size, or a new one (pushed last on s.buffers). */
function placeOutput(s: PlanState, node: GraphNode, pos: number, k: number, rec: TensorRecord, types: Map<string, StaticType>): number {
  const output = node.outputs[k];
  const isGraphOutput = rec.isGraphOutput;
  const uses = s.valueUses[s.ids.outs[s.ids.outStart[pos] + k]];
  const input = node.inputs[0];
  const inputId = input ? s.ids.reads[s.ids.readStart[pos]] : -1;
  if (isGraphOutput && s.loopIteration !== null && node.opType === 'Identity' && input && input !== s.loopIteration && (inputId < 0 || s.bufferOf[inputId] === UNSET)) {
    return share(s, NO_BUFFER, output, uses);
  }
  const inBuf = !isGraphOutput && input ? bufferOf(s, inputId) : NO_BUFFER;
  if (!isGraphOutput && input && VIEW_OPS.has(node.opType)) return share(s, inBuf, output, uses);
  const type = types.get(output);
  if (inBuf !== NO_BUFFER && ORT_CPU_MAY_INPLACE.has(node.opType) && isDefaultDomain(node) && s.useCount[inBuf] === 1 && sameSize(types.get(input), type)) {
    return share(s, inBuf, output, uses);
  }
  const sum = !isGraphOutput && output === node.outputs[0] && !isDefaultDomain(node) && SUM_INPLACE.has(`${node.domain}:${node.opType}`) ? node.inputs[3] : undefined;
  if (sum) {
    const sumBuf = bufferOf(s, s.ids.reads[s.ids.readStart[pos] + 3]);
    if (sumBuf !== NO_BUFFER && s.useCount[sumBuf] === 1 && sameSize(types.get(sum), type)) return share(s, sumBuf, output, uses);
  }
  const key = sizeKey(type);
  if (!isGraphOutput && key !== null) {
    const b = s.freelist.get(key)?.pop();
    if (b !== undefined) return share(s, b, output, uses);
  }
  s.useCount.push(uses);
  s.sizeKey.push(key);
  return s.buffers.push({ tensor: output, bytes: rec.bytes, kind: isGraphOutput ? 'allocate-output' : 'allocate', sharedBy: [] }) - 1;
}

/** One use of value `id` is over; its buffer goes to the front of the freelist when none is left. */
function dropUse(s: PlanState, id: number): void {
  const b = bufferOf(s, id);
  if (b === NO_BUFFER || --s.useCount[b] !== 0) return;
  const key = s.sizeKey[b];
  if (key === null) return;
  const dead = s.freelist.get(key);
  if (dead) dead.push(b);
  else s.freelist.set(key, [b]);
}

export function planAllocations(
  table: TensorTable, types: Map<string, StaticType>, graphOutputs: Set<string>, loopIteration: string | null = null,
): OrtAllocationPlan {
  const ids = valueIds(table, graphOutputs);
  const s: PlanState = {
    ids, bufferOf: new Int32Array(ids.count).fill(UNSET), useCount: [], valueUses: initialUses(ids), freelist: new Map(), sizeKey: [], buffers: [], loopIteration,
  };
  const steps: PlannedStep[] = [];
  for (let pos = 0; pos < table.nodes.length; pos++) {
    const node = table.nodes[pos];
    const allocate: PlannedAllocation[] = [];
    for (let k = 0; k < node.outputs.length; k++) {
      const rec = ids.outRecs[ids.outStart[pos] + k];
      if (!rec || rec.producer !== pos) continue; // missing optional output, or a Constant held as a weight
      const before = s.buffers.length;
      const buffer = placeOutput(s, node, pos, k, rec, types);
      s.bufferOf[ids.outs[ids.outStart[pos] + k]] = buffer;
      if (s.buffers.length > before && rec.bytes > 0) allocate.push({ buffer, bytes: rec.bytes });
    }
    for (let r = ids.readStart[pos]; r < ids.readStart[pos + 1]; r++) dropUse(s, ids.reads[r]);
    for (let r = ids.outStart[pos]; r < ids.outStart[pos + 1]; r++) dropUse(s, ids.outs[r]);
    steps.push({ node: pos, allocate, release: [] });
  }
  return { steps, buffers: s.buffers, heldToEnd: deallocation(table, s, steps) };
}

/** GenerateDeallocationPlan: each allocated buffer is released after the last node reading a value stored in it. */
function deallocation(table: TensorTable, s: PlanState, steps: PlannedStep[]): number[] {
  const lastRead = new Int32Array(s.buffers.length).fill(-1);
  for (let pos = 0; pos < table.nodes.length; pos++) {
    for (let r = s.ids.readStart[pos]; r < s.ids.readStart[pos + 1]; r++) {
      const b = bufferOf(s, s.ids.reads[r]);
      if (b !== NO_BUFFER) lastRead[b] = pos;
    }
  }
  const heldToEnd: number[] = [];
  s.buffers.forEach((buf, b) => {
    if (buf.kind === 'allocate-output' || lastRead[b] < 0) heldToEnd.push(b);
    else steps[lastRead[b]].release.push(b);
  });
  return heldToEnd;
}
