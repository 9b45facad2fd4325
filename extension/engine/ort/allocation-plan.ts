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
import { nodeReads } from '../graph-order';
import { VIEW_OPS } from '../memory/aliasing';
import { ORT_CPU_MAY_INPLACE } from './inplace-kernels';
import type { TensorTable } from '../memory/tensor-table';

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

interface PlanState {
  /** Value -> buffer id, or NO_BUFFER for pre-existing values (graph inputs, initializers). */
  bufferOf: Map<string, number>;
  useCount: number[];
  /** Use counts of values not yet defined (ComputeReuseCount), moved onto a buffer when defined. */
  valueUses: Map<string, number>;
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

/**
 * A node's input defs then its implicit inputs: the outer-scope values its subgraphs read, each
 * once (Node::ImplicitInputDefs). The planner counts both as uses and keeps an implicit input
 * alive until the node (an If, Loop or Scan) has run.
 */
export function plannedReads(node: GraphNode): string[] {
  const all = nodeReads(node);
  return all === node.inputs ? all : [...node.inputs, ...new Set(all.slice(node.inputs.length))];
}

function initialUses(table: TensorTable, graphOutputs: Set<string>): Map<string, number> {
  const uses = new Map<string, number>();
  const bump = (name: string, by = 1) => uses.set(name, (uses.get(name) ?? 0) + by);
  for (const node of table.nodes) {
    for (const i of plannedReads(node)) if (i) bump(i);
    for (const o of node.outputs) if (o) bump(o);
  }
  for (const o of graphOutputs) bump(o);
  return uses;
}

/**
 * Kernels registered with MayInplace(3, 0): the fused Conv writes into its Sum input (the Add it
 * absorbed) when that buffer has no other use (contrib_ops/cpu/nchwc_ops.cc, fused_conv.cc).
 */
const SUM_INPLACE = new Set(['com.microsoft.nchwc:Conv', 'com.microsoft:FusedConv']);

/** Which buffer an output takes: shared with an input, a dead buffer of the same size, or a new one. */
function placeOutput(
  s: PlanState, node: GraphNode, output: string, isGraphOutput: boolean, types: Map<string, StaticType>, bytes: number,
): { buffer: number; fresh: boolean } {
  const uses = s.valueUses.get(output) ?? 0;
  const share = (b: number) => {
    if (b !== NO_BUFFER) {
      s.useCount[b] += uses;
      s.buffers[b].sharedBy.push(output);
    }
    return { buffer: b, fresh: false };
  };
  const input = node.inputs[0];
  if (isGraphOutput && s.loopIteration !== null && node.opType === 'Identity' && input && input !== s.loopIteration && !s.bufferOf.has(input)) {
    return share(NO_BUFFER);
  }
  if (!isGraphOutput && input) {
    const inBuf = s.bufferOf.get(input) ?? NO_BUFFER;
    if (VIEW_OPS.has(node.opType)) return share(inBuf);
    if (ORT_CPU_MAY_INPLACE.has(node.opType) && isDefaultDomain(node) && inBuf !== NO_BUFFER && s.useCount[inBuf] === 1 && sameSize(types.get(input), types.get(output))) {
      return share(inBuf);
    }
  }
  const sum = !isGraphOutput && output === node.outputs[0] && SUM_INPLACE.has(`${node.domain}:${node.opType}`) ? node.inputs[3] : undefined;
  if (sum) {
    const sumBuf = s.bufferOf.get(sum) ?? NO_BUFFER;
    if (sumBuf !== NO_BUFFER && s.useCount[sumBuf] === 1 && sameSize(types.get(sum), types.get(output))) return share(sumBuf);
  }
  const key = sizeKey(types.get(output));
  if (!isGraphOutput && key !== null) {
    const dead = s.freelist.get(key);
    const b = dead?.pop();
    if (b !== undefined) return share(b);
  }
  const id = s.buffers.push({ tensor: output, bytes, kind: isGraphOutput ? 'allocate-output' : 'allocate', sharedBy: [] }) - 1;
  s.useCount.push(uses);
  s.sizeKey.push(key);
  return { buffer: id, fresh: true };
}

/** One use of `name` is over; its buffer goes to the front of the freelist when none is left. */
function dropUse(s: PlanState, name: string): void {
  const b = s.bufferOf.get(name) ?? NO_BUFFER;
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
  const s: PlanState = {
    bufferOf: new Map(), useCount: [], valueUses: initialUses(table, graphOutputs), freelist: new Map(), sizeKey: [], buffers: [], loopIteration,
  };
  const steps: PlannedStep[] = [];
  table.nodes.forEach((node, pos) => {
    const allocate: PlannedAllocation[] = [];
    for (const o of node.outputs) {
      const rec = o ? table.tensors.get(o) : undefined;
      if (!rec || rec.producer !== pos) continue; // missing optional output, or a Constant held as a weight
      const placed = placeOutput(s, node, o, rec.isGraphOutput, types, rec.bytes);
      s.bufferOf.set(o, placed.buffer);
      if (placed.fresh && rec.bytes > 0) allocate.push({ buffer: placed.buffer, bytes: rec.bytes });
    }
    for (const i of plannedReads(node)) if (i) dropUse(s, i);
    for (const o of node.outputs) if (o) dropUse(s, o);
    steps.push({ node: pos, allocate, release: [] });
  });
  return { steps, buffers: s.buffers, heldToEnd: deallocation(table, s, steps) };
}

/** GenerateDeallocationPlan: each allocated buffer is released after the last node reading a value stored in it. */
function deallocation(table: TensorTable, s: PlanState, steps: PlannedStep[]): number[] {
  const lastRead = new Array<number>(s.buffers.length).fill(-1);
  table.nodes.forEach((node, pos) => {
    for (const i of plannedReads(node)) {
      const b = i ? s.bufferOf.get(i) ?? NO_BUFFER : NO_BUFFER;
      if (b !== NO_BUFFER) lastRead[b] = pos;
    }
  });
  const heldToEnd: number[] = [];
  s.buffers.forEach((buf, b) => {
    if (buf.kind === 'allocate-output' || lastRead[b] < 0) heldToEnd.push(b);
    else steps[lastRead[b]].release.push(b);
  });
  return heldToEnd;
}
