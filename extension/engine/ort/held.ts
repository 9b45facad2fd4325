// What ONNX Runtime holds for an inference pass of the session the runner measures
// (extension/runner/worker.ts, attribution session): graph optimisations disabled, the CPU arena
// on, memory pattern off (so every request reaches the arena as the node runs), prepacking off,
// sequential execution. The allocation plan (allocation-plan.ts) is replayed through the BFC arena
// (bfc-arena.ts) node by node: the node's outputs are allocated, its kernel scratch (scratch.ts)
// taken and given back, the figures read (ORT records them when the kernel returns), then the
// buffers whose last reader it was are released.
import { dtypeBits, type Graph, type GraphNode, type Initializer, type Model } from '../graph';
import { executionOrder } from '../graph-order';
import { buildTensorTable, type TensorTable } from '../memory/tensor-table';
import type { AnalysisSettings } from '../settings';
import type { InferredTensor, ShapeResult } from '../shapes/types';
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
  settings: AnalysisSettings;
  /** Subgraph bodies' shapes and the If branches they follow. */
  subgraphs: Pick<ShapeResult, 'bodies' | 'branches'>;
}

interface PassResult {
  perNode: OrtNodeHeld[];
  scratchPeakBytes: number;
  scratchNode: string | null;
}

/** One graph (the main graph or a subgraph body) planned as its own session state plans it. */
interface PlannedGraph {
  table: TensorTable;
  plan: OrtAllocationPlan;
  scratch: number[][];
  /** Per node position: the body its kernel runs (an If's branch), planned the same way. */
  bodies: (PlannedGraph | null)[];
  /** Body graphs only: its outputs are the parent node's outputs, allocated by the parent (not here). */
  external: Set<number>;
}

function planGraph(graph: Graph, table: TensorTable, shapes: Map<string, InferredTensor>, staticShapes: Map<string, StaticType>, inputs: OrtHeldInputs, threads: number, isBody: boolean): PlannedGraph {
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const plan = planAllocations(table, staticShapes, outputs);
  const ctx = { shapes, intraOpThreads: threads };
  const external = new Set<number>();
  if (isBody) plan.buffers.forEach((b, i) => { if (b.kind === 'allocate-output') external.add(i); });
  return {
    table, plan, external,
    scratch: table.nodes.map((n) => kernelScratchRequests(n, ctx)),
    bodies: table.nodes.map((n) => planBody(n, inputs, threads)),
  };
}

/**
 * If (onnxruntime/core/providers/cpu/controlflow/if.cc): the kernel allocates its outputs whose
 * shapes the branch states, then runs the branch with its own session state (its own allocation
 * plan, the same arena); the branch's outputs are fetches written into the If's outputs, so its
 * plan allocates only its intermediates. The branch is the one shapes follow: the one a known
 * condition selects, else the larger (shape inference says so in a warning).
 */
function planBody(node: GraphNode, inputs: OrtHeldInputs, threads: number): PlannedGraph | null {
  if (node.opType !== 'If' || (node.domain !== '' && node.domain !== 'ai.onnx')) return null;
  const choice = inputs.subgraphs.branches.get(node.name);
  const attr = choice ? node.attributes[choice.taken] : undefined;
  const shapes = choice ? inputs.subgraphs.bodies.get(`${node.name}/${choice.taken}`) : undefined;
  if (attr?.kind !== 'graph' || !shapes) return null;
  const body = attr.value;
  const table = buildTensorTable({ ...inputs.model, graph: body }, executionOrder(body), shapes, inputs.settings);
  const statics = new Map<string, StaticType>();
  for (const [name, t] of shapes) statics.set(name, { dtype: t.dtype === 'undefined' ? 'float32' : t.dtype, shape: t.shape });
  return planGraph(body, table, shapes, statics, inputs, threads, true);
}

interface PassState {
  arena: BfcArena;
  perNode: OrtNodeHeld[];
  scratchPeakBytes: number;
  scratchNode: string | null;
}

function runGraph(st: PassState, g: PlannedGraph): void {
  const handles = new Array<number | null>(g.plan.buffers.length).fill(null);
  for (const step of g.plan.steps) {
    for (const a of step.allocate) if (!g.external.has(a.buffer)) handles[a.buffer] = st.arena.allocate(a.bytes);
    const name = g.table.nodes[step.node].name;
    const body = g.bodies[step.node];
    if (body) runGraph(st, body);
    const requests = g.scratch[step.node];
    // A kernel's requests are all alive together and given back before it returns (and ORT reads its figures).
    const taken = requests.map((bytes) => st.arena.allocate(bytes));
    for (const h of taken) if (h !== null) st.arena.free(h);
    const total = requests.reduce((a, b) => a + b, 0);
    if (total > st.scratchPeakBytes) {
      st.scratchPeakBytes = total;
      st.scratchNode = name;
    }
    const s = st.arena.inUse();
    st.perNode.push({ node: name, requestedInUseBytes: s.requestedInUseBytes, arenaInUseBytes: s.inUseBytes });
    for (const b of step.release) freeBuffer(st.arena, handles, b);
  }
  for (const b of g.plan.heldToEnd) freeBuffer(st.arena, handles, b);
}

function runPass(arena: BfcArena, g: PlannedGraph): PassResult {
  const st: PassState = { arena, perNode: [], scratchPeakBytes: 0, scratchNode: null };
  runGraph(st, g);
  return { perNode: st.perNode, scratchPeakBytes: st.scratchPeakBytes, scratchNode: st.scratchNode };
}

function freeBuffer(arena: BfcArena, handles: (number | null)[], b: number): void {
  const h = handles[b];
  if (h !== null) arena.free(h);
  handles[b] = null;
}

export function ortHeldFigures(inputs: OrtHeldInputs, session: OrtSessionModel): OrtHeldFigures {
  const main = planGraph(inputs.model.graph, inputs.table, inputs.shapes, inputs.staticShapes, inputs, session.intraOpThreads, false);
  const arena = new BfcArena(session.arena);
  const reservedBytes = smallInitializerBytes(inputs.model);
  arena.reserve(reservedBytes);
  let pass: PassResult = { perNode: [], scratchPeakBytes: 0, scratchNode: null };
  for (let r = 0; r < Math.max(1, session.runs); r++) pass = runPass(arena, main);
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
