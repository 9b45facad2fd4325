// The planner's value numbering (engine/ort/value-ids.ts) against the graph's own names: two input
// or output slots get the same number exactly when they name the same value, and each output slot
// carries the table's record of its name; on graphs numbered from the table (no subgraphs) and by
// name (an If, a value defined twice), and nodes wider than 8 slots, whose slots are found by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Graph, Model } from '../../../extension/engine/graph';
import { plannedReads, valueIds } from '../../../extension/engine/ort/value-ids';
import { GraphBuilder, int } from '../../fixtures/graph-builder';
import { syntheticDecoder } from '../../fixtures/synthetic-decoder';
import { tabled } from '../memory/graphs';

function assertNumbering(model: Model, settings: Parameters<typeof tabled>[1] = {}): void {
  const { table } = tabled(model, settings);
  const ids = valueIds(table, new Set(model.graph.outputs.map((o) => o.name)));
  const idOfName = new Map<string, number>();
  const slot = (name: string, id: number) => {
    if (!name) return assert.equal(id, -1, 'an empty name has no number');
    if (id === -1) return assert.ok(!table.tensors.has(name), `'${name}' has a record but no number`);
    const seen = idOfName.get(name);
    if (seen === undefined) idOfName.set(name, id);
    else assert.equal(id, seen, `'${name}' numbered twice`);
  };
  table.nodes.forEach((node, pos) => {
    const reads = plannedReads(node);
    assert.equal(ids.readStart[pos + 1] - ids.readStart[pos], reads.length);
    reads.forEach((name, i) => slot(name, ids.reads[ids.readStart[pos] + i]));
    node.outputs.forEach((name, k) => {
      slot(name, ids.outs[ids.outStart[pos] + k]);
      assert.equal(ids.outRecs[ids.outStart[pos] + k], name ? table.tensors.get(name) : undefined);
    });
  });
  assert.equal(new Set(idOfName.values()).size, idOfName.size, 'two names share a number');
  for (const o of model.graph.outputs) {
    const id = idOfName.get(o.name);
    if (id !== undefined) assert.ok(ids.graphOutputIds.includes(id), `graph output '${o.name}' not counted`);
  }
}

test('a decoder as the exporter writes it: every read and output slot numbered by its name', () => {
  assertNumbering(syntheticDecoder({ layers: 2, hidden: 64, heads: 4, kvHeads: 2, ffn: 128, vocab: 100 }), { dims: { sequence: 5, past_sequence: 7, total_sequence: 12 } });
});

test('a value read twice by one node, a Constant, an empty optional input and an unread output', () => {
  const b = new GraphBuilder();
  b.input('x', 'float32', [4, 8]);
  const h = b.one('MatMul', ['x', b.weight('W', [8, 8])], { name: 'a' });
  const sq = b.one('Mul', [h, h], { name: 'square' });
  const c = b.one('Constant', [], { name: 'c', attrs: { value: { kind: 'tensor', value: { name: 'c', dtype: 'float32', dims: [], values: [2], external: false } } } });
  const scaled = b.one('Mul', [sq, c], { name: 'scale' });
  const [clipped] = b.op('Clip', [scaled, '', b.scalar(6)], { name: 'clip' });
  b.op('TopK', [clipped, b.ints([2])], { name: 'topk', outputs: ['y', 'unread'], attrs: { axis: int(1) } });
  b.output('y', 'float32', [4, 2]);
  assertNumbering(b.model(17));
});

test('a value two nodes define, and an If whose branch reads an outer value, are numbered by name', () => {
  const b = new GraphBuilder();
  b.input('x', 'float32', [4, 8]);
  b.op('Relu', ['x'], { name: 'first', outputs: ['h'] });
  b.op('Sigmoid', ['x'], { name: 'again', outputs: ['h'] });
  b.op('Tanh', ['h'], { name: 't', outputs: ['y'] });
  b.output('y', 'float32', [4, 8]);
  assertNumbering(b.model(17));

  const branch = (op: string): Graph => ({
    name: op, inputs: [], outputs: [{ name: `${op}_out`, dtype: 'float32', shape: [4, 8] }], initializers: new Map(), valueInfo: new Map(),
    nodes: [{ name: op, opType: op, domain: '', inputs: ['h'], outputs: [`${op}_out`], attributes: {}, metadata: {} }],
  });
  const g = new GraphBuilder();
  g.input('x', 'float32', [4, 8]);
  g.input('cond', 'bool', []);
  g.op('Relu', ['x'], { name: 'r', outputs: ['h'] });
  g.op('If', ['cond'], { name: 'gate', outputs: ['z'], attrs: { then_branch: { kind: 'graph', value: branch('Neg') }, else_branch: { kind: 'graph', value: branch('Abs') } } });
  g.output('z', 'float32', [4, 8]);
  assertNumbering(g.model(17));
});

test('a Split and a Concat wider than 8 slots, with a value read twice and an empty output, numbered by name', () => {
  const b = new GraphBuilder();
  b.input('x', 'float32', [12, 4]);
  const parts = Array.from({ length: 12 }, (_, i) => (i === 5 ? '' : `p${i}`));
  b.op('Split', ['x'], { name: 'split', outputs: parts, attrs: { axis: int(0), num_outputs: int(12) } });
  const kept = parts.filter((p) => p);
  b.op('Concat', [...kept, 'p0'], { name: 'concat', outputs: ['y'], attrs: { axis: int(0) } });
  b.output('y', 'float32', [12, 4]);
  assertNumbering(b.model(18));
});
