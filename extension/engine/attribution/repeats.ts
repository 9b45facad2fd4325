// How many times a source line ran, read from the graph: the line's nodes, in execution order,
// split into k consecutive calls that each run the same ops in the same relative modules, each
// call in a different module instance (a scope with an index: `layer3.2`, `h.7`, `layers.0`).
// Grouping scope names by a template instead miscounts models whose stages are named
// (`layer1` .. `layer4` in ResNets) and counts a Sequential's children as calls.

export type LineNode = { opType: string; scope: string };

const SEGMENT = /[./]/;

function segments(scope: string): string[] {
  return scope.split(SEGMENT).filter(Boolean);
}

/**
 * The module instance a call ran in: the common module path of its scopes, up to its last index
 * (`layer1.0.downsample.0`, `layer1.0.downsample.1` -> `layer1.0`; `h.0.q`, `h.0.k` -> `h.0`).
 * Empty when the path holds no index: `conv1` and `conv2` are two modules, not two calls.
 */
function callerOf(scopes: string[][]): string[] {
  const first = scopes[0];
  let n = first.length;
  for (const s of scopes) {
    let i = 0;
    while (i < n && i < s.length && s[i] === first[i]) i++;
    n = i;
  }
  while (n > 0 && !/^\d+$/.test(first[n - 1])) n--;
  return first.slice(0, n);
}

/** What a call runs: each node's op and module relative to the call's module instance. */
function shapeOf(nodes: LineNode[], scopes: string[][], depth: number): string {
  return nodes.map((n, i) => `${n.opType}@${scopes[i].slice(depth).join('.')}`).join('|');
}

function splitsInto(nodes: LineNode[], scopes: string[][], k: number): boolean {
  const size = nodes.length / k;
  const callers = new Set<string>();
  let shape: string | null = null;
  for (let c = 0; c < k; c++) {
    const part = scopes.slice(c * size, (c + 1) * size);
    const caller = callerOf(part);
    if (caller.length === 0) return false;
    const name = caller.join('.');
    if (callers.has(name)) return false;
    // Only a call in a new module instance needs its shape compared.
    const s = shapeOf(nodes.slice(c * size, (c + 1) * size), part, caller.length);
    if (shape !== null && s !== shape) return false;
    callers.add(name);
    shape = s;
  }
  return true;
}

/** The most calls the line's nodes split into (1 when they do not split). */
export function lineRepeats(nodes: LineNode[]): number {
  // Nodes all in one module: every part of a split would run in the same instance.
  if (nodes.every((n) => n.scope === nodes[0].scope)) return 1;
  // Split once per distinct scope, not again for every node and every k tried.
  const split = new Map<string, string[]>();
  const scopes = nodes.map((n) => {
    let s = split.get(n.scope);
    if (!s) split.set(n.scope, (s = segments(n.scope)));
    return s;
  });
  for (let k = nodes.length; k > 1; k--) {
    if (nodes.length % k === 0 && splitsInto(nodes, scopes, k)) return k;
  }
  return 1;
}
