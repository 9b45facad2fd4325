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

type Call = { caller: string; shape: string };

function callOf(nodes: LineNode[]): Call | null {
  const scopes = nodes.map((n) => segments(n.scope));
  const caller = callerOf(scopes);
  if (caller.length === 0) return null;
  const shape = nodes.map((n, i) => `${n.opType}@${scopes[i].slice(caller.length).join('.')}`).join('|');
  return { caller: caller.join('.'), shape };
}

function splitsInto(nodes: LineNode[], k: number): boolean {
  const size = nodes.length / k;
  const callers = new Set<string>();
  let shape: string | null = null;
  for (let c = 0; c < k; c++) {
    const call = callOf(nodes.slice(c * size, (c + 1) * size));
    if (!call || callers.has(call.caller) || (shape !== null && call.shape !== shape)) return false;
    callers.add(call.caller);
    shape = call.shape;
  }
  return true;
}

/** The most calls the line's nodes split into (1 when they do not split). */
export function lineRepeats(nodes: LineNode[]): number {
  for (let k = nodes.length; k > 1; k--) {
    if (nodes.length % k === 0 && splitsInto(nodes, k)) return k;
  }
  return 1;
}
