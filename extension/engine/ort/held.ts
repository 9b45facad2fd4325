// What ONNX Runtime holds for an inference pass of the session the runner measures
// (extension/runner/worker.ts, attribution session): graph optimisations disabled, the CPU arena
// on, memory pattern off (so every request reaches the arena as the node runs), prepacking off,
// sequential execution. The allocation plan (allocation-plan.ts) is replayed through the BFC arena
// (bfc-arena.ts) node by node: the node's outputs are allocated, its kernel scratch (scratch.ts)
// taken and given back, the figures read (ORT records them when the kernel returns), then the
// buffers whose last reader it was are released.
import { dtypeBits, type Graph, type GraphNode, type Initializer, type Model } from '../graph';
import { executionOrder, freeNames, nodeReads, writtenOrder } from '../graph-order';
import { buildTensorTable, type TensorTable } from '../memory/tensor-table';
import type { AnalysisSettings } from '../settings';
import type { InferredTensor, ShapeResult } from '../shapes/types';
import { planAllocations, type OrtAllocationPlan, type PlannedStep, type StaticType } from './allocation-plan';
import { BfcArena, ORT_ARENA_DEFAULTS, type BfcArenaConfig } from './bfc-arena';
import type { OrtHeldFigures, OrtNodeHeld } from './held-figures';
import { runLoop, runScan, type Held, type LoopBody, type ScanBody } from './control-flow-run';
import { kernelScratchRequests } from './scratch';
import { insertCpuCasts } from './insert-cast';
import { memPatternBytes } from './mem-pattern';
import { DEFAULT_MLAS_KERNELS, type MlasKernels } from './mlas-kernels';
import { loadPrepacked, prepackPlan } from './prepack';

export interface OrtSessionModel {
  arena: BfcArenaConfig;
  intraOpThreads: number;
  /** Runs made on one session: the arena keeps its regions, and ORT's peak is over all of them. */
  runs: number;
  /**
   * The default-optimised session (level 'all' on a graph ORT optimised): memory pattern on, so the
   * main graph's planned buffers come from one block per run (mem-pattern.ts), and prepacked weight
   * copies (prepack.ts) held in the arena from session load.
   */
  optimised?: boolean;
  /** The MLAS kernels the machine dispatches to: they size quantised GEMMs' packed weights. */
  kernels: MlasKernels;
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
  /** Subgraph bodies' shapes as ORT infers them at load time (symbolic dims kept), by body key; absent: the bound ones. */
  staticBodies?: Map<string, Map<string, InferredTensor>>;
  /** Whether kernels prepack constant weights (the optimised session); the attribution session disables it. */
  prepacked?: boolean;
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
  /** Per node position: the body its kernel runs (an If's branch, a Loop's body), planned the same way. */
  bodies: (PlannedBody | null)[];
  /** Body graphs only: its outputs are the parent node's outputs, allocated by the parent (not here). */
  external: Set<number>;
  /** Bytes of the memory-pattern block its planned buffers live in; null: each is its own arena request. */
  patternBytes: number | null;
}

function planGraph(
  graph: Graph, table: TensorTable, shapes: Map<string, InferredTensor>, staticShapes: Map<string, StaticType>,
  inputs: OrtHeldInputs, threads: number, isBody: boolean, loopIteration: string | null = null,
): PlannedGraph {
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const plan = planAllocations(table, staticShapes, outputs, loopIteration);
  const ctx = { shapes, intraOpThreads: threads, prepacked: inputs.prepacked };
  const external = new Set<number>();
  if (isBody) plan.buffers.forEach((b, i) => { if (b.kind === 'allocate-output') external.add(i); });
  return {
    table, plan, external, patternBytes: null,
    scratch: table.nodes.map((n) => kernelScratchRequests(n, ctx)),
    bodies: table.nodes.map((n) => planBody(n, inputs, threads)),
  };
}

/** An If runs its branch once into outputs it allocated first; a Loop or Scan runs its body per trip. */
type PlannedBody = IfBody | LoopBody<PlannedGraph> | ScanBody<PlannedGraph>;

/** delayed: the If outputs the branch allocates as it produces them (If output -> branch output). */
interface IfBody {
  kind: 'if';
  graph: PlannedGraph;
  delayed: Map<string, string>;
  /** ResolveMemoryPatternFlag: the If's implicit inputs all have a shape (rank known) at load time. */
  patterned: boolean;
}

function planBody(node: GraphNode, inputs: OrtHeldInputs, threads: number): PlannedBody | null {
  if (node.domain !== '' && node.domain !== 'ai.onnx') return null;
  if (node.opType === 'If') return planIfBranch(node, inputs, threads);
  if (node.opType === 'Loop') return planLoopBody(node, inputs, threads);
  if (node.opType === 'Scan') return planScanBody(node, inputs, threads);
  return null;
}

/**
 * Scan, opset 9 and later (scan_9.cc, scan_utils.cc), with every scan axis 0 (other axes make ORT
 * transpose into temporary buffers; those are not simulated). The body writes into buffers the
 * Scan gives it (state outputs, slices of the stacked scan outputs), so its plan allocates only
 * its intermediates. Scan inputs are read through slices: no copies.
 */
function planScanBody(node: GraphNode, inputs: OrtHeldInputs, threads: number): PlannedBody | null {
  const attr = node.attributes.body;
  const shapes = inputs.subgraphs.bodies.get(`${node.name}/body`);
  if (attr?.kind !== 'graph' || !shapes || (inputs.model.opsets[''] ?? inputs.model.opsets['ai.onnx'] ?? 0) < 9) return null;
  const m = node.attributes.num_scan_inputs;
  const numScan = m?.kind === 'int' ? m.value : 0;
  const axes = [node.attributes.scan_input_axes, node.attributes.scan_output_axes];
  if (axes.some((a) => a?.kind === 'ints' && a.value.some((x) => x !== 0))) return null;
  const states = node.inputs.length - numScan;
  const first = inputs.shapes.get(node.inputs[states] ?? '');
  const trips = first?.shape?.[0];
  if (numScan < 1 || typeof trips !== 'number') return null;
  const stateBytes: number[] = [];
  for (const name of node.inputs.slice(0, states)) {
    const bytes = inputs.table.tensors.get(name)?.bytes ?? tensorBytes(inputs.shapes.get(name));
    if (bytes === null) return null;
    stateBytes.push(bytes);
  }
  return { kind: 'scan', graph: planSubgraph(`${node.name}/body`, attr.value, shapes, inputs, threads, true), trips, stateBytes };
}

function tensorBytes(t: InferredTensor | undefined): number | null {
  if (!t?.shape || t.shape.some((d) => typeof d !== 'number') || t.dtype === 'undefined' || t.dtype === 'string') return null;
  return Math.ceil(((t.shape as number[]).reduce((a, d) => a * d, 1) * dtypeBits(t.dtype)) / 8);
}

/**
 * A body planned by its own session state: the sizes it requests from the bound shapes, the reuse
 * decisions (SameSize) from the shapes ORT inferred when it loaded the body, where a dim that
 * derives from a symbolic input stays unknown.
 */
function planSubgraph(
  key: string, body: Graph, shapes: Map<string, InferredTensor>, inputs: OrtHeldInputs, threads: number, external: boolean, loopIteration: string | null = null,
): PlannedGraph {
  // The optimised session's bodies are written by ORT too, in the order their session states run them.
  const order = inputs.prepacked ? writtenOrder(body) : executionOrder(body);
  const table = buildTensorTable({ ...inputs.model, graph: body }, order, shapes, inputs.settings);
  const statics = new Map<string, StaticType>();
  const loadTime = inputs.staticBodies?.get(key);
  for (const [name, t] of shapes) {
    const s = loadTime ? loadTime.get(name) ?? { dtype: t.dtype, shape: null } : t;
    statics.set(name, { dtype: s.dtype === 'undefined' ? 'float32' : s.dtype, shape: s.shape });
  }
  // A body's kernels read outer-scope values too (a Conv's weight is often a main-graph
  // initializer): their scratch is sized from those shapes, the body's own taking precedence.
  const scoped = new Map([...inputs.shapes, ...shapes]);
  return planGraph(body, table, scoped, statics, inputs, threads, external, loopIteration);
}

/**
 * Loop (onnxruntime/core/providers/cpu/controlflow/loop.cc). The trip count is M when M is a
 * folded constant and the initial condition is absent or true, as the shape rule counts it (a body
 * whose condition stops earlier is not foreseen); otherwise the Loop is not simulated. The body's
 * outputs are its own fetches (no preallocated outputs), so its plan allocates them too.
 */
function planLoopBody(node: GraphNode, inputs: OrtHeldInputs, threads: number): PlannedBody | null {
  const attr = node.attributes.body;
  const shapes = inputs.subgraphs.bodies.get(`${node.name}/body`);
  if (attr?.kind !== 'graph' || !shapes) return null;
  const m = inputs.shapes.get(node.inputs[0] ?? '')?.value;
  const cond = node.inputs[1] ? inputs.shapes.get(node.inputs[1])?.value : [1];
  if (!m || m.length !== 1 || !cond || cond.length !== 1 || cond[0] !== 1) return null;
  const body = attr.value;
  const graph = planSubgraph(`${node.name}/body`, body, shapes, inputs, threads, false, body.inputs[0]?.name ?? null);
  const inputIndex = new Map(body.inputs.map((v, i) => [v.name, i]));
  const passThrough = body.outputs.map((o) => {
    const direct = inputIndex.get(o.name);
    if (direct !== undefined) return direct;
    const producer = body.nodes.find((n) => n.outputs.includes(o.name));
    const j = producer?.opType === 'Identity' ? inputIndex.get(producer.inputs[0]) : undefined;
    return j !== undefined && j > 0 ? j : null;
  });
  const outputs = body.outputs.map((o) => o.name);
  const grows = body.outputs.map((o, k) => growsSequence(body, graph, o.name, k));
  return { kind: 'loop', graph, trips: m[0], carried: Math.max(0, node.inputs.length - 2), outputs, passThrough, grows, nodeOutputs: node.outputs };
}

/**
 * A carried sequence grown by SequenceInsert (sequence_ops.cc): the new sequence shares the
 * elements of the one it extends and copies only the inserted tensor, so each trip allocates that
 * tensor's bytes and every element stays alive until the Loop ends. The plan's request is set to
 * the inserted tensor's size (the body's table sizes the whole sequence as the body sees it).
 */
function growsSequence(body: Graph, graph: PlannedGraph, output: string, k: number): boolean {
  const pos = graph.table.nodes.findIndex((n) => n.outputs.includes(output));
  const producer = graph.table.nodes[pos];
  if (producer?.opType !== 'SequenceInsert' || producer.inputs[0] !== body.inputs[k + 1]?.name) return false;
  const inserted = graph.table.tensors.get(producer.inputs[1])?.bytes;
  const alloc = graph.plan.steps[pos]?.allocate.find((a) => graph.plan.buffers[a.buffer].tensor === output);
  if (alloc && inserted !== undefined) alloc.bytes = inserted;
  return true;
}

/**
 * If (onnxruntime/core/providers/cpu/controlflow/if.cc, IfImpl::AllocateOutputTensors): the kernel
 * allocates the outputs whose shape the branch's output states in full, then runs the branch with
 * its own session state (its own allocation plan, the same arena), which writes into them. An
 * output whose stated shape has a symbolic dim is AllocationType::Delayed: the branch's fetch
 * allocator allocates it as the If's output when the branch node producing it runs. The branch is
 * the one shapes follow: the one a known condition selects, else the larger (shape inference says
 * so in a warning).
 */
function planIfBranch(node: GraphNode, inputs: OrtHeldInputs, threads: number): IfBody | null {
  const choice = inputs.subgraphs.branches.get(node.name);
  const attr = choice ? node.attributes[choice.taken] : undefined;
  const shapes = choice ? inputs.subgraphs.bodies.get(`${node.name}/${choice.taken}`) : undefined;
  if (attr?.kind !== 'graph' || !shapes) return null;
  const key = `${node.name}/${choice!.taken}`;
  const graph = planSubgraph(key, attr.value, shapes, inputs, threads, true);
  // The shape ORT states for a branch output: the declared one, else what it inferred at load time.
  const loadTime = inputs.staticBodies?.get(key) ?? shapes;
  const delayed = new Map<string, string>();
  attr.value.outputs.forEach((o, k) => {
    const stated = o.shape ?? loadTime.get(o.name)?.shape ?? null;
    if (node.outputs[k] && !stated?.every((d) => typeof d === 'number')) delayed.set(node.outputs[k], o.name);
  });
  const inner = new Set(delayed.values());
  graph.plan.buffers.forEach((b, i) => { if (inner.has(b.tensor)) graph.external.delete(i); });
  const shaped = (n: string) => inputs.model.graph.initializers.has(n) || inputs.staticShapes.get(n)?.shape != null;
  const patterned = [...freeNames(attr.value)].every(shaped);
  return { kind: 'if', graph, delayed, patterned };
}

/**
 * An If branch has its own session state, and so its own memory pattern (session_state.cc: a
 * subgraph's pattern is on when its inputs and the If's implicit inputs have shapes): the branch's
 * first run traces its planned buffers, every later run takes them from one block. Its outputs are
 * the If's (allocated by the If or, delayed, as outputs), so they are not in the pattern.
 */
function setBranchPatterns(g: PlannedGraph, cached: boolean): void {
  for (const body of g.bodies) {
    if (body?.kind !== 'if') continue;
    body.graph.patternBytes = cached && body.patterned ? memPatternBytes(body.graph.plan, body.graph.external) : null;
    setBranchPatterns(body.graph, cached);
  }
}

/** An If: its stated outputs first, the branch, then the delayed outputs the branch allocated (any other is given back). */
function runIf(st: PassState, body: IfBody, allocateOutputs: OutputAllocator): void {
  allocateOutputs(undefined, (t) => !body.delayed.has(t));
  // The branch's frame takes its own pattern block (a cached pattern: the optimised session after its first run).
  const block = body.graph.patternBytes ? st.arena.allocate(body.graph.patternBytes) : null;
  const fetches = runGraph(st, body.graph, true);
  if (block !== null) st.arena.free(block);
  const adopted = new Map<string, number[]>();
  for (const [out, inner] of body.delayed) {
    const h = fetches.get(inner);
    if (typeof h === 'number') adopted.set(out, [h]);
  }
  const taken = allocateOutputs(adopted, (t) => body.delayed.has(t));
  for (const [out, chunks] of adopted) if (!taken.has(out)) for (const c of chunks) st.arena.free(c);
}

type OutputAllocator = (adopted?: Map<string, number[]>, only?: (tensor: string) => boolean) => Set<string>;

interface PassState {
  arena: BfcArena;
  perNode: OrtNodeHeld[];
  scratchPeakBytes: number;
  scratchNode: string | null;
}

/**
 * Runs one graph's plan. With keepOutputs (a Loop body) the graph's own outputs are not released
 * at the end: they are the fetches handed back to the Loop, returned by output name.
 */
function runGraph(st: PassState, g: PlannedGraph, keepOutputs = false): Map<string, number | null> {
  // A buffer is one arena chunk, or the elements of a sequence a Loop hands over as its output.
  const handles = new Array<Held>(g.plan.buffers.length).fill(null);
  const steps = g.plan.steps;
  for (let k = 0; k < steps.length; k++) {
    const step = steps[k];
    const body = g.bodies[step.node];
    if (body === null) allocateStep(st, g, step, handles);
    else runBody(st, g, step, handles, body);
    runKernelScratch(st, g, step.node);
    const arena = st.arena;
    st.perNode.push({ node: g.table.nodes[step.node].name, requestedInUseBytes: arena.requestedInUseBytes, arenaInUseBytes: arena.inUseBytes });
    for (let r = 0; r < step.release.length; r++) freeBuffer(arena, handles, step.release[r]);
  }
  const fetches = new Map<string, number | null>();
  for (const b of g.plan.heldToEnd) {
    const h = handles[b];
    if (keepOutputs && g.plan.buffers[b].kind === 'allocate-output' && !Array.isArray(h)) fetches.set(g.plan.buffers[b].tensor, h);
    else freeBuffer(st.arena, handles, b);
  }
  return fetches;
}

/**
 * The step's outputs the graph allocates itself (not a body's external outputs, nor buffers inside
 * the memory-pattern block), limited to `only`; an adopted tensor takes the chunks given for it
 * and is added to `taken`.
 */
function allocateStep(
  st: PassState, g: PlannedGraph, step: PlannedStep, handles: Held[], adopted?: Map<string, number[]>, only?: (tensor: string) => boolean, taken?: Set<string>,
): void {
  for (let k = 0; k < step.allocate.length; k++) {
    const a = step.allocate[k];
    const buffer = g.plan.buffers[a.buffer];
    if (g.external.has(a.buffer) || (only && !only(buffer.tensor))) continue;
    if (g.patternBytes !== null && buffer.kind === 'allocate') continue;
    const chunks = adopted?.get(buffer.tensor);
    if (chunks) taken?.add(buffer.tensor);
    handles[a.buffer] = chunks ?? st.arena.allocate(a.bytes);
  }
}

/** An If, Loop or Scan step: its kernel allocates its outputs around running its body. */
function runBody(st: PassState, g: PlannedGraph, step: PlannedStep, handles: Held[], body: PlannedBody): void {
  const allocateOutputs: OutputAllocator = (adopted, only) => {
    const taken = new Set<string>();
    allocateStep(st, g, step, handles, adopted, only, taken);
    return taken;
  };
  if (body.kind === 'loop') runLoop(st.arena, body, allocateOutputs, (graph) => runGraph(st, graph, true));
  else if (body.kind === 'scan') {
    allocateOutputs();
    runScan(st.arena, body, (graph) => runGraph(st, graph));
  } else runIf(st, body, allocateOutputs);
}

/** A kernel's requests are all alive together and given back before it returns (and ORT reads its figures). */
function runKernelScratch(st: PassState, g: PlannedGraph, node: number): void {
  const requests = g.scratch[node];
  if (requests.length === 0) return;
  const taken = requests.map((bytes) => st.arena.allocate(bytes));
  for (const h of taken) if (h !== null) st.arena.free(h);
  const total = requests.reduce((a, b) => a + b, 0);
  if (total > st.scratchPeakBytes) {
    st.scratchPeakBytes = total;
    st.scratchNode = g.table.nodes[node].name;
  }
}

function runPass(arena: BfcArena, g: PlannedGraph): PassResult {
  const st: PassState = { arena, perNode: [], scratchPeakBytes: 0, scratchNode: null };
  const block = g.patternBytes ? arena.allocate(g.patternBytes) : null;
  runGraph(st, g);
  if (block !== null) arena.free(block);
  return { perNode: st.perNode, scratchPeakBytes: st.scratchPeakBytes, scratchNode: st.scratchNode };
}

function freeBuffer(arena: BfcArena, handles: Held[], b: number): void {
  const h = handles[b];
  if (Array.isArray(h)) for (const c of h) arena.free(c);
  else if (h !== null) arena.free(h);
  handles[b] = null;
}

/** The main graph with the CPU provider's float16 Casts (insert-cast.ts): what ORT plans and runs. */
function withCpuCasts(inputs: OrtHeldInputs): OrtHeldInputs {
  const view = insertCpuCasts(inputs.model.graph, inputs.shapes, () => executionOrder(inputs.model.graph));
  if (!view) return inputs;
  const model = { ...inputs.model, graph: view.graph };
  const staticShapes = new Map(inputs.staticShapes);
  for (const [name, source] of view.sources) staticShapes.set(name, { dtype: 'float32', shape: inputs.staticShapes.get(source)?.shape ?? null });
  const table = buildTensorTable(model, executionOrder(view.graph), view.shapes, inputs.settings);
  return { ...inputs, model, table, shapes: view.shapes, staticShapes };
}

export function ortHeldFigures(original: OrtHeldInputs, session: OrtSessionModel): OrtHeldFigures {
  const inputs = { ...withCpuCasts(original), prepacked: session.optimised === true };
  const main = planGraph(inputs.model.graph, inputs.table, inputs.shapes, inputs.staticShapes, inputs, session.intraOpThreads, false);
  const arena = new BfcArena(session.arena);
  const reservedBytes = smallInitializerBytes(inputs.model, inputs.table);
  arena.reserve(reservedBytes);
  const packing = session.optimised ? prepackPlan(inputs.model.graph, session.kernels) : { kept: [], dropped: [] };
  // IAllocator::MakeUniquePtr(alloc, size, use_reserve = true): BFCArena::Reserve, a region of exactly the size;
  // packers that call alloc->Alloc (QLinearConv::PrePack) take BFC chunks like tensors (prepack.ts loadPrepacked).
  for (const step of packing.kept) loadPrepacked(arena, step);
  for (const bytes of packing.dropped) {
    arena.reserve(bytes);
    arena.unreserve(bytes);
  }
  const pattern = session.optimised ? memPatternBytes(main.plan) : null;
  let pass: PassResult = { perNode: [], scratchPeakBytes: 0, scratchNode: null };
  for (let r = 0; r < Math.max(1, session.runs); r++) {
    // The first run has no pattern yet: it allocates buffer by buffer while the frame traces them
    // (execution_frame.cc TraceAllocate); the pattern is cached for the input shapes and used after.
    main.patternBytes = r === 0 ? null : pattern;
    if (session.optimised) setBranchPatterns(main, r > 0);
    pass = runPass(arena, main);
  }
  const stats = arena.snapshot();
  let requestedPeakBytes = 0;
  for (let k = 0; k < pass.perNode.length; k++) requestedPeakBytes = Math.max(requestedPeakBytes, pass.perNode[k].requestedInUseBytes);
  return {
    requestedPeakBytes,
    arenaInUsePeakBytes: stats.peakInUseBytes,
    arenaHeldBytes: stats.heldBytes,
    scratchPeakBytes: pass.scratchPeakBytes,
    scratchNode: pass.scratchNode,
    prepackedBytes: packing.kept.reduce((a, c) => a + c.bytes, 0),
    ...(pattern !== null ? { memPatternBytes: pattern } : {}),
    // Scratch and prepacked copies are served by the arena, so the held regions already contain them.
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
 * Every subgraph has its own session state that saves its initializers the same way, into the
 * same arena, so If branches and Loop bodies count too (a value read only inside a body is read).
 */
export const SMALL_TENSOR_THRESHOLD_BYTES = 127;

function smallInitializerBytes(model: Model, table: TensorTable): number {
  return graphSmallInitializerBytes(model.graph, table);
}

function storedBytes(dims: number[], dtype: Initializer['dtype']): number {
  let elements = 1;
  for (let i = 0; i < dims.length; i++) elements *= dims[i];
  return Math.ceil((elements * dtypeBits(dtype)) / 8);
}

/** `table`: the graph's own tensor table (the main graph's), whose consumers say which values a node reads as an input. */
function graphSmallInitializerBytes(g: Graph, table?: TensorTable): number {
  let total = 0;
  // The small values first (the names that hold each, its bytes): most initializers are large, and only a small one needs its reads checked.
  const smallNames: (string | string[])[] = [];
  const smallBytes: number[] = [];
  for (const t of g.initializers.values()) {
    const bytes = storedBytes(t.dims, t.dtype);
    if (bytes > SMALL_TENSOR_THRESHOLD_BYTES) continue;
    smallNames.push(t.name);
    smallBytes.push(bytes);
  }
  const withBodies: GraphNode[] = [];
  for (const n of g.nodes) {
    const v = n.attributes.value;
    if (n.opType === 'Constant' && v?.kind === 'tensor') {
      const bytes = storedBytes(v.value.dims, v.value.dtype);
      if (bytes <= SMALL_TENSOR_THRESHOLD_BYTES) {
        smallNames.push(n.outputs);
        smallBytes.push(bytes);
      }
    }
    for (const key in n.attributes) {
      const a = n.attributes[key];
      if (a.kind !== 'graph' && a.kind !== 'graphs') continue;
      if (withBodies[withBodies.length - 1] !== n) withBodies.push(n);
      for (const sub of a.kind === 'graph' ? [a.value] : a.value) total += graphSmallInitializerBytes(sub);
    }
  }
  if (smallNames.length === 0) return total;
  const isRead = table ? tableReads(g, table, withBodies) : scannedReads(g, new Set(smallNames.flat()));
  smallNames.forEach((names, k) => {
    if (typeof names === 'string' ? isRead(names) : names.some(isRead)) total += smallBytes[k];
  });
  return total;
}

/** The names among `wanted` that some node reads (an input, or a value its subgraphs use). */
function scannedReads(g: Graph, wanted: Set<string>): (name: string) => boolean {
  const read = new Set<string>();
  for (const n of g.nodes) for (const name of nodeReads(n)) if (wanted.has(name)) read.add(name);
  return (name) => read.has(name);
}

/** Read: a node's input (a consumer in the table; '' when a node leaves an optional input out), or a value a node's subgraph uses. */
function tableReads(g: Graph, table: TensorTable, withBodies: GraphNode[]): (name: string) => boolean {
  const implicit = new Set(withBodies.flatMap((n) => nodeReads(n).slice(n.inputs.length)));
  const emptyRead = g.nodes.some((n) => n.inputs.includes(''));
  return (name) => (name === '' ? emptyRead : (table.tensors.get(name)?.consumers.length ?? 0) > 0 || implicit.has(name));
}

/** The session the runner measures, with ORT's arena defaults. */
export function attributionSession(intraOpThreads: number, runs: number, kernels: MlasKernels = DEFAULT_MLAS_KERNELS): OrtSessionModel {
  return { arena: ORT_ARENA_DEFAULTS, intraOpThreads, runs, kernels };
}

/** The runner's default-optimised session (level 'all', memory pattern and prepacking on), run on the graph ORT optimised. */
export function optimisedSession(intraOpThreads: number, runs: number, kernels: MlasKernels = DEFAULT_MLAS_KERNELS): OrtSessionModel {
  return { arena: ORT_ARENA_DEFAULTS, intraOpThreads, runs, optimised: true, kernels };
}
