// The If nodes of a model, in the main graph and in every body (nested ones too), and the node
// names a branch runs: what a pin names and what a measured run's kernel events are matched with.
import { nodeBodies, type Graph, type GraphNode } from './graph';

/** Every If node of `graph` and of the bodies inside it, in file order. */
export function ifNodes(graph: Graph, out: GraphNode[] = []): GraphNode[] {
  for (const n of graph.nodes) {
    if (n.opType === 'If' && n.domain === '') out.push(n);
    for (const body of nodeBodies(n)) ifNodes(body, out);
  }
  return out;
}

/** Names of the nodes of `graph` and of the bodies inside it. */
export function nodeNames(graph: Graph, out: string[] = []): string[] {
  for (const n of graph.nodes) {
    out.push(n.name);
    for (const body of nodeBodies(n)) nodeNames(body, out);
  }
  return out;
}
