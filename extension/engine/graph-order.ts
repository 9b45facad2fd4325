// Orders of a graph's nodes. `topoOrder`: any valid order, the file's own when it is already
// sorted (shape inference). `executionOrder`: the order ONNX Runtime's sequential executor runs,
// which the memory model follows.
import type { Graph, GraphNode } from './graph';
import { MemlensError } from './errors';

/** Names a node reads: its inputs plus outer-scope names its subgraphs use (If/Loop bodies). */
export function nodeReads(node: GraphNode): string[] {
  let reads: string[] | null = null;
  const attributes = node.attributes;
  // for...in: no array of values made for each of a graph's nodes, most of which have no subgraph.
  for (const key in attributes) {
    if (!Object.hasOwn(attributes, key)) continue;
    const a = attributes[key];
    const graphs = a.kind === 'graph' ? [a.value] : a.kind === 'graphs' ? a.value : null;
    if (!graphs) continue;
    reads ??= node.inputs.slice();
    for (const g of graphs) for (const n of freeNames(g)) reads.push(n);
  }
  return reads ?? node.inputs;
}

/** Names a subgraph reads without defining them. */
export function freeNames(g: Graph): Set<string> {
  const defined = new Set<string>();
  for (const v of g.inputs) defined.add(v.name);
  for (const k of g.initializers.keys()) defined.add(k);
  for (const n of g.nodes) for (const o of n.outputs) defined.add(o);
  const free = new Set<string>();
  for (const n of g.nodes) {
    for (const i of nodeReads(n)) if (i !== '' && !defined.has(i)) free.add(i);
  }
  for (const o of g.outputs) if (!defined.has(o.name)) free.add(o.name);
  return free;
}

export function topoOrder(graph: Graph): GraphNode[] {
  const nodes = graph.nodes;
  const producer = new Map<string, number>();
  for (let i = 0; i < nodes.length; i++) for (const o of nodes[i].outputs) if (o !== '') producer.set(o, i);
  const reads = nodes.map(nodeReads);

  let sorted = true;
  for (let i = 0; i < nodes.length && sorted; i++) {
    for (const name of reads[i]) {
      const p = producer.get(name);
      if (p !== undefined && p >= i) { sorted = false; break; }
    }
  }
  if (sorted) return nodes;

  const pending = new Array<number>(nodes.length).fill(0);
  const consumers: number[][] = nodes.map(() => []);
  for (let i = 0; i < nodes.length; i++) {
    for (const name of new Set(reads[i])) {
      const p = producer.get(name);
      if (p === undefined) continue;
      pending[i]++;
      consumers[p].push(i);
    }
  }
  const order: GraphNode[] = [];
  const ready: number[] = [];
  for (let i = 0; i < nodes.length; i++) if (pending[i] === 0) ready.push(i);
  // Ready nodes run first-in first-out, so the exporter's order is kept where the graph allows it.
  for (let head = 0; head < ready.length; head++) {
    const i = ready[head];
    order.push(nodes[i]);
    for (const c of consumers[i]) if (--pending[c] === 0) ready.push(c);
  }
  if (order.length < nodes.length) {
    const onCycle = nodeOnCycle(pending, reads, producer);
    const n = nodes[onCycle];
    throw new MemlensError(`graph '${graph.name || 'main'}' has a cycle through node '${n.name}' (${n.opType})`);
  }
  return order;
}

/** Walk back from a blocked node along blocked producers until a node repeats: it is on a cycle. */
function nodeOnCycle(pending: number[], reads: string[][], producer: Map<string, number>): number {
  let i = pending.findIndex((p) => p > 0);
  const seen = new Set<number>();
  while (!seen.has(i)) {
    seen.add(i);
    const next = reads[i].map((n) => producer.get(n)).find((p) => p !== undefined && pending[p] > 0);
    if (next === undefined) break;
    i = next;
  }
  return i;
}

/**
 * GraphViewer's topological order in ONNX Runtime: a reverse depth-first search from the leaf
 * nodes (no consumers) that emits each node after its producers, pushing producers in ascending
 * index so the highest-indexed one is visited first. Checked against ORT 1.30's profiled node
 * order on ResNet-18, MobileNetV2, ViT, a Transformer encoder and PP-OCRv4 (identical on all five).
 * Returns node indices.
 */
export function executionOrder(graph: Graph): number[] {
  const n = graph.nodes.length;
  const producer = new Map<string, number>();
  for (let i = 0; i < n; i++) for (const o of graph.nodes[i].outputs) if (o) producer.set(o, i);
  let cyclic = false;
  const producers: number[][] = graph.nodes.map((node, i) => {
    const ps: number[] = [];
    for (const name of nodeReads(node)) {
      const p = producer.get(name);
      if (p === i) cyclic = true; // a node reading its own output
      else if (p !== undefined) ps.push(p);
    }
    return ascendingUnique(ps);
  });

  const hasConsumer = new Uint8Array(n);
  for (const ps of producers) for (const p of ps) hasConsumer[p] = 1;
  const stack: number[] = []; // ~i marks "leave i"
  for (let i = 0; i < n; i++) if (!hasConsumer[i]) stack.push(i);
  // 0 not visited, 1 entered (on the current path), 2 left. A producer on the current path closes a cycle.
  const state = new Uint8Array(n);
  const order: number[] = [];
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (top < 0) {
      state[~top] = 2;
      order.push(~top);
      continue;
    }
    if (state[top]) continue;
    state[top] = 1;
    stack.push(~top);
    for (const p of producers[top]) {
      if (!state[p]) stack.push(p);
      else if (state[p] === 1) cyclic = true;
    }
  }
  // A cycle (or nodes only a cycle consumes): topoOrder throws, naming a node on it.
  if (cyclic || order.length < n) topoOrder(graph);
  return order;
}

/**
 * The order a session runs a graph ONNX Runtime wrote for it (optimizedModelFilePath, the
 * optimised session): Graph::ToGraphProto writes the nodes in the session's own topological order
 * but not the node indices that order came from, so the file's order is followed, not rederived
 * (NCHWc ReorderOutput nodes hold the session's highest indices wherever the file places them;
 * measured on the ResNet FPN backbone: the profiled order equals the written one). A file that is
 * not topologically sorted gets executionOrder.
 */
export function writtenOrder(graph: Graph): number[] {
  if (topoOrder(graph) !== graph.nodes) return executionOrder(graph);
  return graph.nodes.map((_n, i) => i);
}

/** A short list sorted ascending without repeats (a node's producers: a few each). */
function ascendingUnique(xs: number[]): number[] {
  if (xs.length < 2) return xs;
  xs.sort((a, b) => a - b);
  let k = 1;
  for (let j = 1; j < xs.length; j++) if (xs[j] !== xs[k - 1]) xs[k++] = xs[j];
  xs.length = k;
  return xs;
}
