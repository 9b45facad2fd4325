// Which branch each If ran, from the kernel events of the attribution session. With graph
// optimisations disabled nothing is inlined or renamed, and a branch runs in its own session state
// under the session's profiler, so each node it runs has its own `<name>_kernel_time` event. A
// branch ran when nodes that only it has (no other graph of the model names them) had events.
import type { Graph } from '../engine/graph';
import { ifNodes, nodeNames } from '../engine/if-nodes';
import type { RanBranch } from '../engine/profile';
import type { IfBranch } from '../engine/settings';

/** Names of the nodes that count as evidence shown per If. */
const SEEN_SHOWN = 3;

/**
 * The If nodes whose branch the events tell. An If is left out when neither branch has a node of
 * its own among them (a branch of no nodes, names shared with another graph, an If that did not
 * run) or when both do (an If in a Loop body may take each branch in turn).
 */
export function branchesRan(graph: Graph, events: readonly { node: string }[]): RanBranch[] {
  const ran = new Set(events.map((e) => e.node));
  const places = new Map<string, number>();
  for (const name of nodeNames(graph)) places.set(name, (places.get(name) ?? 0) + 1);
  const own = (body: Graph | undefined) => (body ? nodeNames(body).filter((n) => n !== '' && places.get(n) === 1 && ran.has(n)) : []);
  const out: RanBranch[] = [];
  for (const node of ifNodes(graph)) {
    if (node.name === '') continue;
    const body = (b: IfBranch) => { const a = node.attributes[b]; return a?.kind === 'graph' ? a.value : undefined; };
    const [then, other] = [own(body('then_branch')), own(body('else_branch'))];
    if ((then.length > 0) === (other.length > 0)) continue;
    out.push({ node: node.name, ran: then.length > 0 ? 'then_branch' : 'else_branch', seen: (then.length > 0 ? then : other).slice(0, SEEN_SHOWN) });
  }
  return out;
}
