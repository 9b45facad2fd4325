// Source locations for nodes of a TorchScript ONNX export. The exporter names nodes by module
// scope (`/layer1/layer1.0/conv1/Conv`) but records no lines. The bridge reports each module's
// path, class and forward; the forwards are parsed here with tree-sitter, and each node is put on
//  - the line where its innermost torch.nn layer is called in the nearest forward that has
//    source (`out = self.conv1(x)` in BasicBlock.forward; the nth call for `relu_1`), or
//  - for an op written in a module's own forward (`out += identity` -> Add), the nth statement
//    that produces that op kind, else the consumer's line (shape plumbing), else the `def` line.
import type { Graph, GraphNode } from '../../extension/engine/graph';
import type { ForwardInfo } from './discovery';

export interface ModuleRecord {
  /** Dotted path from the root module; '' for the root. */
  path: string;
  className: string;
  classModule: string;
  classFile: string | null;
  /** `BasicBlock.forward`: the class that defines the forward that runs. */
  forwardQualname: string | null;
  forwardFile: string | null;
  forwardLine: number | null;
  /** Defined by torch itself (layers, containers): located by their call site. */
  builtin: boolean;
  /** A layer built with `inplace=True` (nn.ReLU, nn.SiLU, ...): it overwrites its input. */
  inplace?: boolean;
}

export interface NodeLocation {
  file: string | null;
  line: number | null;
  /** Dotted module path of the innermost module ('' for the root). */
  scope: string;
}

/** Looks up the parsed forward of a module record (file + qualname); null when it has no source. */
export type ForwardLookup = (record: ModuleRecord) => ForwardInfo | null;

interface ScopeStep {
  path: string;
  /** Which call of the same submodule (`relu_1` -> 1). */
  callIndex: number;
}

/** `/layer1/layer1.0/relu_1/Relu` -> module chain, or null when the name carries no scope. */
export function scopeChain(nodeName: string, modules: Map<string, ModuleRecord>): ScopeStep[] | null {
  if (!nodeName.startsWith('/')) return null;
  const segments = nodeName.slice(1).split('/');
  segments.pop(); // the op itself: `Conv`, `Add_1`
  const chain: ScopeStep[] = [];
  let cur: string[] = [];
  for (const seg of segments) {
    const step = resolveSegment(seg, cur, modules) ?? resolveRepeated(seg, cur, modules);
    if (!step) break; // a scope the module tree does not know (e.g. a function-level scope): stop here
    chain.push(step);
    cur = step.path.split('.');
  }
  return chain;
}

/** A segment is relative to the current module or to one of its ancestors (`layer1.0` under `layer1`). */
function resolveSegment(seg: string, cur: string[], modules: Map<string, ModuleRecord>): ScopeStep | null {
  for (let k = cur.length; k >= 0; k--) {
    const prefix = cur.slice(0, k).join('.');
    const candidate = prefix ? `${prefix}.${seg}` : seg;
    if (modules.has(candidate) && candidate !== cur.join('.')) return { path: candidate, callIndex: 0 };
  }
  return null;
}

function resolveRepeated(seg: string, cur: string[], modules: Map<string, ModuleRecord>): ScopeStep | null {
  const m = /^(.*)_(\d+)$/.exec(seg);
  if (!m) return null;
  const step = resolveSegment(m[1], cur, modules);
  return step ? { path: step.path, callIndex: Number(m[2]) } : null;
}

function parentPaths(path: string): string[] {
  const parts = path ? path.split('.') : [];
  const out = [''];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('.'));
  return out;
}

/** Computes a location for every node of the graph. */
export function locateNodes(graph: Graph, records: ModuleRecord[], forwardOf: ForwardLookup): Map<string, NodeLocation> {
  const modules = new Map(records.map((r) => [r.path, r]));
  const located = new Map<string, NodeLocation>();
  const pending: GraphNode[] = [];
  const opCounters = new Map<string, number>();
  const producers = new Map<string, GraphNode>();
  for (const n of graph.nodes) for (const o of n.outputs) producers.set(o, n);
  // An op cannot come before the ops it consumes when both are in one forward: the lowest line
  // it may take, which corrects the nth-site guess when the exporter fused or dropped an op.
  const earliest = (node: GraphNode, file: string | null, scope: string): number => {
    let min = 0;
    for (const i of node.inputs) {
      const from = producers.get(i);
      const loc = from ? located.get(from.name) : undefined;
      if (loc && loc.line !== null && loc.file === file && loc.scope === scope) min = Math.max(min, loc.line);
    }
    return min;
  };

  for (const node of graph.nodes) {
    const chain = scopeChain(node.name, modules);
    if (chain === null) {
      pending.push(node); // unscoped helpers take their consumer's place and scope
      continue;
    }
    const scope = chain.length ? chain[chain.length - 1].path : '';
    if (node.opType === 'Constant') {
      pending.push(node);
      located.set(node.name, { file: null, line: null, scope });
      continue;
    }
    const result = locateScoped(node, scope, chain, modules, forwardOf, opCounters, earliest);
    if (result === 'pending') {
      pending.push(node);
      located.set(node.name, { file: null, line: null, scope });
    } else {
      located.set(node.name, result);
    }
  }

  // Shape plumbing and constants: the line of the first consumer that has one, in reverse order so
  // chains of helpers resolve; otherwise the forward's `def` line of their scope.
  const consumers = new Map<string, GraphNode[]>();
  for (const n of graph.nodes) for (const i of n.inputs) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  for (const node of [...pending].reverse()) {
    const own = located.get(node.name);
    const users = node.outputs.flatMap((o) => consumers.get(o) ?? []);
    const from = users.map((u) => located.get(u.name)).find((l) => l && l.line !== null && (!own || l.scope === own.scope));
    if (from) {
      located.set(node.name, { ...from, scope: own?.scope ?? from.scope });
    } else {
      const scope = own?.scope ?? users.map((u) => located.get(u.name)?.scope).find((s) => s !== undefined) ?? '';
      located.set(node.name, defLine(scope, modules, forwardOf));
    }
  }
  return located;
}

function locateScoped(
  node: GraphNode,
  scope: string,
  chain: ScopeStep[],
  modules: Map<string, ModuleRecord>,
  forwardOf: ForwardLookup,
  opCounters: Map<string, number>,
  earliest: (node: GraphNode, file: string | null, scope: string) => number,
): NodeLocation | 'pending' {
  const steps: ScopeStep[] = [{ path: '', callIndex: 0 }, ...chain];
  for (let i = steps.length - 1; i >= 0; i--) {
    const record = modules.get(steps[i].path);
    if (!record || record.builtin) continue;
    const fwd = forwardOf(record);
    if (!fwd) continue;
    const file = record.forwardFile;
    if (i === steps.length - 1) {
      // The op is written in this module's own forward.
      const key = `${record.path}\u0000${node.opType}`;
      const n = opCounters.get(key) ?? 0;
      opCounters.set(key, n + 1);
      const sites = fwd.ops.filter((s) => s.ops.includes(node.opType));
      if (sites.length === 0) return 'pending';
      const guess = sites[Math.min(n, sites.length - 1)];
      const min = earliest(node, file, scope);
      const site = guess.line >= min ? guess : sites.find((x) => x.line >= min) ?? guess;
      return { file, line: site.line, scope };
    }
    // The op belongs to a submodule called from this forward: find that call.
    const child = steps[i + 1];
    const relative = record.path ? child.path.slice(record.path.length + 1) : child.path;
    const attribute = relative.split('.')[0];
    const calls = fwd.calls.filter((c) => c.attribute === attribute);
    if (calls.length === 0) return { file, line: fwd.line, scope };
    return { file, line: calls[Math.min(child.callIndex, calls.length - 1)].line, scope };
  }
  return { file: null, line: null, scope };
}

function defLine(scope: string, modules: Map<string, ModuleRecord>, forwardOf: ForwardLookup): NodeLocation {
  for (const path of scope ? [scope, ...parentPaths(scope).reverse()] : ['']) {
    const record = modules.get(path);
    if (!record || record.builtin) continue;
    const fwd = forwardOf(record);
    if (fwd) return { file: record.forwardFile, line: fwd.line, scope };
  }
  return { file: null, line: null, scope };
}
