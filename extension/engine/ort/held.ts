// What ONNX Runtime holds for an inference pass of the session the runner measures
// (extension/runner/worker.ts, attribution session): graph optimisations disabled, the CPU arena
// on, memory pattern off (so every request reaches the arena as the node runs), prepacking off,
// sequential execution. The allocation plan (allocation-plan.ts) is replayed through the BFC arena
// (bfc-arena.ts) node by node: the node's outputs are allocated, its kernel scratch (scratch.ts)
// taken and given back, the figures read (ORT records them when the kernel returns), then the
// buffers whose last reader it was are released.
import { dtypeBits, type Initializer, type Model } from '../graph';
import type { TensorTable } from '../memory/tensor-table';
import type { InferredTensor } from '../shapes/types';
import { planAllocations, type OrtAllocationPlan, type StaticType } from './allocation-plan';
import { BfcArena, ORT_ARENA_DEFAULTS, type BfcArenaConfig } from './bfc-arena';
import type { OrtHeldFigures, OrtNodeHeld } from './held-figures';
import { kernelScratchRequests } from './scratch';

export interface OrtSessionModel {
  arena: BfcArenaConfig;
  intraOpThreads: number;
  /** Runs made on one session: the arena keeps its regions, and ORT's peak is over all of them. */
  runs: number;
}

export interface OrtHeldInputs {
  model: Model;
  table: TensorTable;
  /** Shapes with the run's dims bound: the sizes the kernels request. */
  shapes: Map<string, InferredTensor>;
  /** Shapes as ORT infers them at load time (symbolic dims kept): what its planner compares. */
  staticShapes: Map<string, StaticType>;
  weightBytes: number;
}

interface PassResult {
  perNode: OrtNodeHeld[];
  scratchPeakBytes: number;
  scratchNode: string | null;
}

function runPass(arena: BfcArena, plan: OrtAllocationPlan, inputs: OrtHeldInputs, scratch: number[][]): PassResult {
  const handles = new Array<number | null>(plan.buffers.length).fill(null);
  const perNode: OrtNodeHeld[] = [];
  let scratchPeakBytes = 0, scratchNode: string | null = null;
  for (const step of plan.steps) {
    for (const a of step.allocate) handles[a.buffer] = arena.allocate(a.bytes);
    const name = inputs.table.nodes[step.node].name;
    const requests = scratch[step.node];
    // A kernel's requests are all alive together and given back before it returns (and ORT reads its figures).
    const taken = requests.map((bytes) => arena.allocate(bytes));
    for (const h of taken) if (h !== null) arena.free(h);
    const total = requests.reduce((a, b) => a + b, 0);
    if (total > scratchPeakBytes) {
      scratchPeakBytes = total;
      scratchNode = name;
    }
    const s = arena.inUse();
    perNode.push({ node: name, requestedInUseBytes: s.requestedInUseBytes, arenaInUseBytes: s.inUseBytes });
    for (const b of step.release) freeBuffer(arena, handles, b);
  }
  for (const b of plan.heldToEnd) freeBuffer(arena, handles, b);
  return { perNode, scratchPeakBytes, scratchNode };
}

function freeBuffer(arena: BfcArena, handles: (number | null)[], b: number): void {
  const h = handles[b];
  if (h !== null) arena.free(h);
  handles[b] = null;
}

export function ortHeldFigures(inputs: OrtHeldInputs, session: OrtSessionModel): OrtHeldFigures {
  const outputs = new Set(inputs.model.graph.outputs.map((o) => o.name));
  const plan = planAllocations(inputs.table, inputs.staticShapes, outputs);
  const ctx = { shapes: inputs.shapes, intraOpThreads: session.intraOpThreads };
  const scratch = inputs.table.nodes.map((n) => kernelScratchRequests(n, ctx));
  const arena = new BfcArena(session.arena);
  const reservedBytes = smallInitializerBytes(inputs.model);
  arena.reserve(reservedBytes);
  let pass: PassResult = { perNode: [], scratchPeakBytes: 0, scratchNode: null };
  for (let r = 0; r < Math.max(1, session.runs); r++) pass = runPass(arena, plan, inputs, scratch);
  const stats = arena.snapshot();
  let requestedPeakBytes = 0;
  for (const n of pass.perNode) requestedPeakBytes = Math.max(requestedPeakBytes, n.requestedInUseBytes);
  return {
    requestedPeakBytes,
    arenaInUsePeakBytes: stats.peakInUseBytes,
    arenaHeldBytes: stats.heldBytes,
    scratchPeakBytes: pass.scratchPeakBytes,
    scratchNode: pass.scratchNode,
    prepackedBytes: 0,
    // Scratch is served by the arena, so the held regions already contain it.
    reservedBytes,
    deviceBytes: inputs.weightBytes + stats.heldBytes - reservedBytes,
    intraOpThreads: session.intraOpThreads,
    runs: Math.max(1, session.runs),
    perNode: pass.perNode,
  };
}

/**
 * ORT keeps initializers larger than kSmallTensorExternalDataThreshold (127 B) where they are
 * (no copy) and copies smaller ones, through the session allocator, into reserved arena memory.
 * Constant nodes become initializers when the graph loads; initializers no node reads are dropped.
 */
export const SMALL_TENSOR_THRESHOLD_BYTES = 127;

function smallInitializerBytes(model: Model): number {
  const g = model.graph;
  const read = new Set(g.nodes.flatMap((n) => n.inputs));
  let total = 0;
  const add = (dims: number[], dtype: Initializer['dtype']) => {
    const bytes = Math.ceil((dims.reduce((a, d) => a * d, 1) * dtypeBits(dtype)) / 8);
    if (bytes <= SMALL_TENSOR_THRESHOLD_BYTES) total += bytes;
  };
  for (const t of g.initializers.values()) if (read.has(t.name)) add(t.dims, t.dtype);
  for (const n of g.nodes) {
    const v = n.attributes.value;
    if (n.opType === 'Constant' && v?.kind === 'tensor' && n.outputs.some((o) => read.has(o))) add(v.value.dims, v.value.dtype);
  }
  return total;
}

/** The session the runner measures, with ORT's arena defaults. */
export function attributionSession(intraOpThreads: number, runs: number): OrtSessionModel {
  return { arena: ORT_ARENA_DEFAULTS, intraOpThreads, runs };
}
