// Execution order: a stable topological sort that keeps the file's node order wherever it is
// already valid, as ONNX Runtime's sequential executor does for exporter-sorted graphs.
import type { Graph } from '../graph';
import { MemlensError } from '../errors';

export function executionOrder(graph: Graph): number[] {
  const n = graph.nodes.length;
  const producer = new Map<string, number>();
  graph.nodes.forEach((node, i) => node.outputs.forEach((o) => o && producer.set(o, i)));
  const indegree = new Int32Array(n);
  const dependents: number[][] = Array.from({ length: n }, () => []);
  graph.nodes.forEach((node, i) => {
    const seen = new Set<number>();
    for (const name of nodeInputsWithSubgraphs(node)) {
      const p = producer.get(name);
      if (p === undefined || p === i || seen.has(p)) continue;
      seen.add(p);
      indegree[i]++;
      dependents[p].push(i);
    }
  });
  // Min-heap on original index so that a sorted graph keeps its order exactly.
  const heap: number[] = [];
  const push = (v: number) => {
    heap.push(v);
    let c = heap.length - 1;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (heap[p] <= heap[c]) break;
      [heap[p], heap[c]] = [heap[c], heap[p]];
      c = p;
    }
  };
  const pop = (): number => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let p = 0;
      for (;;) {
        const l = 2 * p + 1, r = l + 1;
        let m = p;
        if (l < heap.length && heap[l] < heap[m]) m = l;
        if (r < heap.length && heap[r] < heap[m]) m = r;
        if (m === p) break;
        [heap[p], heap[m]] = [heap[m], heap[p]];
        p = m;
      }
    }
    return top;
  };
  for (let i = 0; i < n; i++) if (indegree[i] === 0) push(i);
  const order: number[] = [];
  while (heap.length > 0) {
    const i = pop();
    order.push(i);
    for (const d of dependents[i]) if (--indegree[d] === 0) push(d);
  }
  if (order.length !== n) {
    const stuck = graph.nodes.find((_, i) => indegree[i] > 0)!;
    throw new MemlensError(`graph has a cycle through node '${stuck.name}' (${stuck.opType})`);
  }
  return order;
}

/** A node's inputs plus the outer-scope names its subgraphs (If/Loop/Scan bodies) read. */
export function nodeInputsWithSubgraphs(node: Graph['nodes'][number]): string[] {
  const names = node.inputs.filter((x) => x !== '');
  for (const attr of Object.values(node.attributes)) {
    const graphs = attr.kind === 'graph' ? [attr.value] : attr.kind === 'graphs' ? attr.value : [];
    for (const g of graphs) names.push(...outerReads(g));
  }
  return names;
}

function outerReads(g: Graph): string[] {
  const local = new Set<string>([...g.inputs.map((i) => i.name), ...g.initializers.keys()]);
  for (const n of g.nodes) n.outputs.forEach((o) => local.add(o));
  const reads: string[] = [];
  for (const n of g.nodes) for (const x of nodeInputsWithSubgraphs(n)) if (x && !local.has(x)) reads.push(x);
  return reads;
}
