// The graph ONNX Runtime's CPU provider runs when a model has float16 values: its
// InsertCastTransformer (onnxruntime/core/optimizer/insert_cast_transformer.cc) runs in every
// session, optimisations off included. A node whose CPU kernel has no float16 registration runs in
// float32 between inserted Casts; RemoveDuplicateCastTransformer then drops the Cast pairs that
// cancel out. The Casts' outputs are arena requests like any node's (a float32 copy of every
// float16 weight such a node reads, among them), so the allocation plan is made on this graph.
//
// Steps followed, in ORT's order:
// 1. ForceSingleNodeCPUFloat16ToFloat32: a node that has a float16 kernel but whose float16 inputs
//    all come from nodes that will be cast, and whose float16 outputs all go to such nodes, is
//    unassigned too (not when it has a subgraph, produces a graph output or reads no node's output;
//    only the first actual input of a variadic parameter counts, as the type-constraint walk does).
// 2. In topological order, each unassigned node with a float16 input (no subgraph) gets one Cast
//    to float32 per float16 input, shared by every such node reading it, named
//    InsertedPrecisionFreeCast_<input>; each float16 output is written in float32 to
//    InsertedPrecisionFreeCast_<output> and cast back by a Cast of that name.
// 3. RemoveDuplicateCastTransformer, nodes in index order: a Cast whose consumer Cast undoes it
//    (not a graph output) loses that consumer; a Cast whose consumers were all Casts goes too.
import type { DType, Graph, GraphNode } from '../graph';
import type { InferredTensor } from '../shapes/types';

/**
 * Ops whose CPU kernels onnxruntime-node 1.30 registers for MLFloat16 on x86-64 (built without
 * MLAS_F16VEC_INTRINSICS_SUPPORTED, which guards the float16 Relu, Conv, Gemm, MaxPool, ...):
 * the type-agnostic data movers (cpu_execution_provider.cc, tensor/*.cc), Max and Min
 * (math/element_wise_ops.cc), Clip (math/clip.cc), Round, Sign and Mod, IsNaN, and
 * LayerNormalization (nn/layer_norm.cc). test/integration/engine/ort-insert-cast.test.ts checks
 * this list, op by op, against a real session.
 */
export const CPU_FLOAT16_OPS: ReadonlySet<string> = new Set([
  'Cast', 'Identity', 'Reshape', 'Shape', 'Squeeze', 'Unsqueeze', 'Flatten', 'Concat', 'Split',
  'Transpose', 'Expand', 'Slice', 'Gather', 'GatherElements', 'Max', 'Min', 'Clip', 'Round',
  'Sign', 'Mod', 'IsNaN', 'LayerNormalization',
]);

/** Variadic ops: the type-constraint walk of IsIsolatedFp16NodeOnCpu looks at their first input only. */
const VARIADIC = new Set(['Concat', 'Max', 'Min', 'Sum', 'Mean']);

const PREFIX = 'InsertedPrecisionFreeCast_';
const FLOAT = 1;
const FLOAT16 = 10;

export interface CastView {
  graph: Graph;
  /** The original shapes plus the float32 values the Casts create. */
  shapes: Map<string, InferredTensor>;
  /** Each float32 value a Cast or a cast node writes, with the float16 value it stands for. */
  sources: Map<string, string>;
  /** Inserted Casts still in the graph. */
  inserted: number;
}

interface Work {
  nodes: (GraphNode | null)[];
  dtype: (name: string) => DType | undefined;
  shapes: Map<string, InferredTensor>;
  sources: Map<string, string>;
  graphOutputs: Set<string>;
  names: Set<string>;
}

const hasSubgraph = (n: GraphNode) => Object.values(n.attributes).some((a) => a.kind === 'graph' || a.kind === 'graphs');
const isDefaultDomain = (n: GraphNode) => n.domain === '' || n.domain === 'ai.onnx';

function consumersOf(w: Work, name: string): number[] {
  const out: number[] = [];
  w.nodes.forEach((n, i) => { if (n) for (const x of n.inputs) if (x === name) out.push(i); });
  return out;
}

function producerMap(w: Work): Map<string, number> {
  const m = new Map<string, number>();
  w.nodes.forEach((n, i) => n?.outputs.forEach((o) => o && m.set(o, i)));
  return m;
}

/** The CPU provider's kernel lookup before the transformer: no float16 kernel leaves a node unassigned. */
function initialAssignment(w: Work): boolean[] {
  return w.nodes.map((n) => !n || !n.inputs.some((i) => isF16(w, i)) || CPU_FLOAT16_OPS.has(n.opType) || !isDefaultDomain(n) || hasSubgraph(n));
}

const isF16 = (w: Work, name: string) => name !== '' && w.dtype(name) === 'float16';

function needsCast(w: Work, assigned: boolean[], i: number): boolean {
  const n = w.nodes[i];
  return !!n && !assigned[i] && n.inputs.some((x) => isF16(w, x));
}

/** IsIsolatedFp16NodeOnCpu, evaluated node by node as ORT does (an earlier unassignment counts). */
function forceIsolated(w: Work, assigned: boolean[]): void {
  const producer = producerMap(w);
  w.nodes.forEach((n, i) => {
    if (!n || !assigned[i] || !isDefaultDomain(n) || hasSubgraph(n)) return;
    if (!n.inputs.some((x) => producer.has(x)) || n.outputs.some((o) => w.graphOutputs.has(o))) return;
    const args = VARIADIC.has(n.opType) ? n.inputs.slice(0, 1) : n.inputs;
    const f16In = args.filter((x) => isF16(w, x));
    if (f16In.length === 0) return;
    if (f16In.some((x) => producer.has(x) && !needsCast(w, assigned, producer.get(x)!))) return;
    const f16Out = n.outputs.filter((o) => isF16(w, o));
    if (f16Out.length === 0) return;
    if (f16Out.some((o) => consumersOf(w, o).some((c) => !needsCast(w, assigned, c)))) return;
    assigned[i] = false;
  });
}

/** Graph::GenerateNodeName: the base name, or base_token_N when a node or value has it already. */
function uniqueName(w: Work, base: string): string {
  let name = base;
  for (let k = 0; w.names.has(name); k++) name = `${base}_token_${k}`;
  w.names.add(name);
  return name;
}

function addCast(w: Work, from: string, to: string, toType: number, name: string): void {
  w.nodes.push({ name, opType: 'Cast', domain: '', inputs: [from], outputs: [to], attributes: { to: { kind: 'int', value: toType } }, metadata: {} });
}

function float32Like(w: Work, source: string, name: string): void {
  const t = w.shapes.get(source);
  w.shapes.set(name, { dtype: 'float32', shape: t?.shape ?? null });
  w.sources.set(name, source);
}

/** InsertCastTransformer::ApplyImpl over the nodes in topological order. */
function insertCasts(w: Work, assigned: boolean[], order: number[]): void {
  const updates = new Map<string, string>();
  for (const i of order) {
    const n = w.nodes[i];
    if (!n || assigned[i] || hasSubgraph(n) || !n.inputs.some((x) => isF16(w, x))) continue;
    const inputs = n.inputs.map((src) => {
      if (!isF16(w, src)) return src;
      let cast = updates.get(src);
      if (!cast) {
        cast = uniqueName(w, PREFIX + src);
        float32Like(w, src, cast);
        addCast(w, src, cast, FLOAT, cast);
        updates.set(src, cast);
      }
      return cast;
    });
    const outputs = n.outputs.map((out) => {
      if (!isF16(w, out)) return out;
      const arg = uniqueName(w, PREFIX + out);
      float32Like(w, out, arg);
      addCast(w, arg, out, FLOAT16, arg);
      return arg;
    });
    w.nodes[i] = { ...n, inputs, outputs };
  }
}

type Group = 'bool' | 'int' | 'uint' | 'float' | null;

function group(t: DType | undefined): Group {
  if (t === 'bool') return 'bool';
  if (t === 'int8' || t === 'int16' || t === 'int32' || t === 'int64') return 'int';
  if (t === 'uint8' || t === 'uint16' || t === 'uint32' || t === 'uint64') return 'uint';
  if (t === 'float16' || t === 'bfloat16' || t === 'float32' || t === 'float64') return 'float';
  return null;
}

function bits(t: DType | undefined): number {
  switch (t) {
    case 'bool': return 1;
    case 'int8': case 'uint8': return 8;
    case 'int16': case 'uint16': case 'float16': case 'bfloat16': return 16;
    case 'int32': case 'uint32': case 'float32': return 32;
    case 'int64': case 'uint64': case 'float64': return 64;
    default: return -1;
  }
}

const RANK: Record<Exclude<Group, null>, number> = { bool: 0, int: 1, uint: 2, float: 3 };

/** RemoveDuplicateCastTransformer::UnsafeCast: inserted Casts never count as losing precision. */
function unsafeCast(src: DType | undefined, dst: DType | undefined, name: string): boolean {
  const gs = group(src);
  const gd = group(dst);
  if (!gs || !gd) return true;
  if (gs !== 'bool' && gs !== 'uint' && gd === 'uint') return true;
  if (gs === 'float' && gd !== 'float') return true;
  if (gs === 'uint' && gd === 'int') return bits(dst) <= bits(src);
  if ((gs === 'int' || gs === 'uint') && gd === 'float') return bits(dst) <= bits(src);
  if ((src === 'float16' && dst === 'bfloat16') || (src === 'bfloat16' && dst === 'float16')) return true;
  return bits(src) > bits(dst) && !name.startsWith(PREFIX);
}

function rewire(w: Work, from: string, to: string): void {
  w.nodes.forEach((n, i) => {
    if (n && n.inputs.includes(from)) w.nodes[i] = { ...n, inputs: n.inputs.map((x) => (x === from ? to : x)) };
  });
}

/** One Cast of RemoveDuplicateCastTransformer::ApplyImpl; its consumers are read fresh (earlier removals count). */
function removeDuplicates(w: Work, i: number): void {
  const c = w.nodes[i];
  if (!c || c.opType !== 'Cast') return;
  const src = w.dtype(c.inputs[0]);
  const dst = w.dtype(c.outputs[0]);
  const lossy = unsafeCast(src, dst, c.name);
  const children = consumersOf(w, c.outputs[0]);
  const remove: number[] = [];
  const keep: number[] = [];
  for (const k of children) {
    const child = w.nodes[k]!;
    if (child.opType !== 'Cast') continue;
    const s1 = w.dtype(child.inputs[0]);
    const d1 = w.dtype(child.outputs[0]);
    const g1 = group(s1);
    const g2 = group(d1);
    if (!g1 || !g2 || (lossy && RANK[g2] > RANK[g1])) return;
    if (!w.graphOutputs.has(child.outputs[0]) && src === d1 && s1 === dst) remove.push(k);
    else keep.push(k);
  }
  for (const k of new Set(remove)) {
    const r = w.nodes[k]!;
    w.nodes[k] = null;
    rewire(w, r.outputs[0], c.inputs[0]);
  }
  if (children.length > 0 && remove.length + keep.length === children.length && !w.graphOutputs.has(c.outputs[0])) {
    w.nodes[i] = null;
    rewire(w, c.outputs[0], c.inputs[0]);
  }
}

/** Whether any value has a float16 type: without one no node reads float16, and no Cast goes in. */
function hasFloat16(graph: Graph, shapes: Map<string, InferredTensor>): boolean {
  for (const t of shapes.values()) if (t.dtype === 'float16') return true;
  for (const t of graph.initializers.values()) if (t.dtype === 'float16') return true;
  return [...graph.inputs, ...graph.outputs].some((v) => v.dtype === 'float16');
}

/**
 * The main graph as the CPU provider runs it, or null when no Cast is inserted (no float16 value
 * reaches a node without a float16 kernel). `order` gives the graph's topological order (GraphViewer),
 * computed only when Casts are inserted.
 * Subgraph bodies are left as they are.
 */
export function insertCpuCasts(graph: Graph, shapes: Map<string, InferredTensor>, order: () => number[]): CastView | null {
  if (!hasFloat16(graph, shapes)) return null;
  const declared = new Map<string, DType>();
  for (const v of [...graph.inputs, ...graph.outputs]) declared.set(v.name, v.dtype);
  for (const t of graph.initializers.values()) declared.set(t.name, t.dtype);
  const work: Work = {
    nodes: graph.nodes,
    dtype: (name) => work.shapes.get(name)?.dtype ?? declared.get(name),
    shapes,
    sources: new Map(),
    graphOutputs: new Set(graph.outputs.map((o) => o.name)),
    names: new Set(),
  };
  const assigned = initialAssignment(work);
  if (assigned.every((a) => a)) return null;
  // Casts go in: work on copies from here on.
  work.nodes = graph.nodes.slice();
  work.shapes = new Map(shapes);
  work.names = new Set([...graph.nodes.map((n) => n.name), ...shapes.keys()]);
  forceIsolated(work, assigned);
  const before = work.nodes.length;
  insertCasts(work, assigned, order());
  for (let i = 0; i < work.nodes.length; i++) removeDuplicates(work, i);
  const nodes = work.nodes.filter((n): n is GraphNode => n !== null);
  const inserted = work.nodes.slice(before).filter((n) => n !== null).length;
  return { graph: { ...graph, nodes }, shapes: work.shapes, sources: work.sources, inserted };
}
