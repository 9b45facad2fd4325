// The If nodes of a model, in the main graph and in every body (nested ones too), and the node
// names a branch runs: what a pin names and what a measured run's kernel events are matched with.
import type { Graph, GraphNode } from './graph';

/** The subgraphs a node holds (If branches, Loop and Scan bodies). */
export function nodeBodies(node: GraphNode): Graph[] {
  const out: Graph[] = [];
  for (const key of Object.keys(node.attributes)) {
    const a = node.attributes[key];
    if (a.kind === 'graph') out.push(a.value);
    else if (a.kind === 'graphs') out.push(...a.value);
  }
  return out;
}

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
