// executionOrder finds cycles in its own depth-first search (a producer still on the search path)
// instead of sorting the graph first; these hold it to topoOrder's errors and to the definition of a
// topological order on random graphs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemlensError } from '../../../extension/engine/errors';
import type { Graph } from '../../../extension/engine/graph';
import { executionOrder, topoOrder } from '../../../extension/engine/graph-order';
import { seededRng } from '../../../extension/engine/seeded-random';
import { a, graph, node, vi } from '../shapes/build';

function cycleError(g: Graph): string {
  try {
    topoOrder(g);
  } catch (e) {
    if (e instanceof MemlensError) return e.message;
  }
  throw new Error('expected topoOrder to refuse the graph');
}

const cyclic: Record<string, Graph> = {
  'a cycle feeding the output': graph({
    inputs: [vi('x', 'float32', [2])],
    nodes: [node('Relu', ['x'], ['a0']), node('Add', ['a0', 'c'], ['b']), node('Neg', ['b'], ['c']), node('Exp', ['b'], ['y'])],
  }),
  // Every node of the cycle is consumed, so no search from a leaf reaches it.
  'a cycle no output reads': graph({
    inputs: [vi('x', 'float32', [2])],
    nodes: [node('Relu', ['x'], ['y']), node('Add', ['x', 'q'], ['p']), node('Neg', ['p'], ['q'])],
  }),
  'a node reading its own output': graph({
    inputs: [vi('x', 'float32', [2])],
    nodes: [node('Add', ['x', 's'], ['s']), node('Relu', ['s'], ['y'])],
  }),
  'an If whose branch reads the If': graph({
    inputs: [vi('c', 'bool', [])],
    nodes: [node('If', ['c'], ['z'], {
      then_branch: a.graph(graph({ name: 't', outputs: [vi('z', 'float32', [1])], nodes: [] })),
      else_branch: a.graph(graph({ name: 'e', outputs: [vi('w', 'float32', [1])], nodes: [node('Identity', ['z'], ['w'])] })),
    })],
  }),
};

for (const [what, g] of Object.entries(cyclic)) {
  test(`executionOrder refuses ${what} with topoOrder's error`, () => {
    const expected = cycleError(g);
    assert.match(expected, /has a cycle through node/);
    assert.throws(() => executionOrder(g), (e: unknown) => e instanceof MemlensError && e.message === expected);
  });
}

/** A random DAG of `n` nodes in shuffled file order: each reads up to three earlier tensors (repeats allowed). */
function randomDag(n: number, seed: number): Graph {
  const rng = seededRng(seed);
  const names = ['x'];
  const nodes = [];
  for (let i = 0; i < n; i++) {
    const reads = Array.from({ length: 1 + Math.floor(rng() * 3) }, () => names[Math.floor(rng() * names.length)]);
    const outs = rng() < 0.2 ? [`t${i}a`, `t${i}b`] : [`t${i}`];
    nodes.push(node('Sum', reads, outs, {}, '', `n${i}`));
    names.push(...outs);
  }
  for (let i = nodes.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [nodes[i], nodes[j]] = [nodes[j], nodes[i]];
  }
  return graph({ inputs: [vi('x', 'float32', [1])], nodes });
}

test('on random acyclic graphs executionOrder lists every node once, each after the producers of what it reads', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const g = randomDag(5 + seed * 7, seed);
    const order = executionOrder(g);
    assert.deepEqual([...order].sort((x, y) => x - y), g.nodes.map((_, i) => i), `seed ${seed}: a permutation`);
    const producer = new Map<string, number>();
    g.nodes.forEach((nd, i) => nd.outputs.forEach((o) => producer.set(o, i)));
    const at = new Map(order.map((i, k) => [i, k]));
    for (const i of order) {
      for (const name of g.nodes[i].inputs) {
        const p = producer.get(name);
        if (p !== undefined) assert.ok(at.get(p)! < at.get(i)!, `seed ${seed}: node ${g.nodes[i].name} runs after its producer ${g.nodes[p].name}`);
      }
    }
  }
});
