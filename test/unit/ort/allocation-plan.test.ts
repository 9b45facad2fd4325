// Worked examples of ONNX Runtime's sequential allocation plan (core/framework/allocation_planner.cc:
// ComputeReuseCount, ComputeSingleStreamReusePlan, FindReusableInput/Tensor, GenerateDeallocationPlan),
// derived by hand from those functions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTimeShapes } from '../../../extension/engine/analyze';
import { planAllocations, sameSize } from '../../../extension/engine/ort/allocation-plan';
import { inferShapes } from '../../../extension/engine/shapes/infer';
import { GraphBuilder } from '../../fixtures/graph-builder';
import { tabled } from '../memory/graphs';

function plan(b: GraphBuilder) {
  const t = tabled(b.model(17));
  const outputs = new Set(t.table.nodes.flatMap((n) => n.outputs).filter((o) => t.table.tensors.get(o)?.isGraphOutput));
  const p = planAllocations(t.table, t.shapes, outputs);
  const names = t.table.nodes.map((n) => n.name);
  return {
    allocated: p.steps.map((s) => s.allocate.map((a) => p.buffers[a.buffer].tensor)),
    released: p.steps.map((s) => s.release.map((id) => p.buffers[id].tensor)),
    heldToEnd: p.heldToEnd.map((id) => p.buffers[id].tensor),
    shared: Object.fromEntries(p.buffers.map((buf) => [buf.tensor, buf.sharedBy])),
    names,
  };
}

test('SameSize: same element size and dims (named dims by name); unknown dims never match', () => {
  assert.ok(sameSize({ dtype: 'float32', shape: [2, 'n'] }, { dtype: 'int32', shape: [2, 'n'] }));
  assert.ok(!sameSize({ dtype: 'float32', shape: [2, 3] }, { dtype: 'float16', shape: [2, 3] }));
  assert.ok(!sameSize({ dtype: 'float32', shape: [2, null] }, { dtype: 'float32', shape: [2, null] }));
  assert.ok(!sameSize({ dtype: 'float32', shape: [6] }, { dtype: 'float32', shape: [2, 3] })); // same bytes, other shape
});

test('FindReusableTensor: a later output takes a dead buffer of the same static size; the buffer is released after its last reader', () => {
  const b = new GraphBuilder();
  b.input('x', 'float32', [4, 8]);
  b.op('MatMul', ['x', b.weight('W', [8, 8])], { name: 'a', outputs: ['h1'] });
  b.op('MatMul', ['h1', b.weight('V', [8, 8])], { name: 'b', outputs: ['h2'] }); // h1 dies here
  b.op('MatMul', ['h2', b.weight('U', [8, 8])], { name: 'c', outputs: ['h3'] }); // reuses h1's buffer; h2 dies
  b.op('MatMul', ['h3', b.weight('T', [8, 8])], { name: 'd', outputs: ['y'] }); // graph output: own buffer
  b.output('y', 'float32', [4, 8]);
  const p = plan(b);
  assert.deepEqual(p.allocated, [['h1'], ['h2'], [], ['y']]);
  assert.deepEqual(p.shared.h1, ['h3']);
  // h1's buffer is read last (as h3) by d; h2's by c.
  assert.deepEqual(p.released, [[], [], ['h2'], ['h1']]);
  assert.deepEqual(p.heldToEnd, ['y']);
});

test('ComputeReuseCount counts each input def: a value a node reads twice is dead after that node, and its buffer is reused', () => {
  const b = new GraphBuilder();
  b.input('x', 'float32', [4, 8]);
  b.op('MatMul', ['x', b.weight('W', [8, 8])], { name: 'a', outputs: ['h1'] }); // h1: 1 def + 2 reads
  b.op('Mul', ['h1', 'h1'], { name: 'square', outputs: ['m'] }); // both reads drop: h1 dies here
  b.op('MatMul', ['m', b.weight('U', [8, 8])], { name: 'c', outputs: ['h3'] }); // takes h1's buffer
  b.op('MatMul', ['h3', b.weight('T', [8, 8])], { name: 'd', outputs: ['y'] });
  b.output('y', 'float32', [4, 8]);
  const p = plan(b);
  assert.deepEqual(p.allocated, [['h1'], ['m'], [], ['y']]);
  assert.deepEqual(p.shared.h1, ['h3']);
  assert.deepEqual(p.released, [[], [], ['m'], ['h1']]);
});

test('Alias and MayInplace: a Reshape shares its input; a Relu shares its input only at the input\'s last use', () => {
  const b = new GraphBuilder();
  b.input('x', 'float32', [4, 8]);
  b.op('MatMul', ['x', b.weight('W', [8, 8])], { name: 'mm', outputs: ['h'] });
  b.op('Relu', ['h'], { name: 'r1', outputs: ['r'] }); // h is also read by add: not in place
  b.op('Relu', ['r'], { name: 'r2', outputs: ['s'] }); // r's last use: in place
  b.op('Reshape', ['s', b.ints([32])], { name: 'flat', outputs: ['v'] });
  b.op('Reshape', ['h', b.ints([32])], { name: 'flat2', outputs: ['u'] });
  b.op('Add', ['v', 'u'], { name: 'add', outputs: ['y'] });
  b.output('y', 'float32', [32]);
  const p = plan(b);
  assert.deepEqual(p.allocated.filter((a) => a.length > 0), [['h'], ['r'], ['y']]);
  assert.deepEqual(p.shared.r, ['s', 'v']);
  assert.deepEqual(p.shared.h, ['u']);
});

test('GenerateDeallocationPlan: an output no node reads is kept until the run ends', () => {
  const b = new GraphBuilder();
  b.input('x', 'float32', [4, 8]);
  b.op('TopK', ['x', b.ints([2])], { name: 'topk', outputs: ['vals', 'idx'] }); // idx never read
  b.op('Relu', ['vals'], { name: 'relu', outputs: ['y'] });
  b.output('y', 'float32', [4, 2]);
  const p = plan(b);
  assert.deepEqual(p.heldToEnd.sort(), ['idx', 'y']);
});

test('load-time shapes: a Slice sized by a Shape chain has its rank only (ONNX test_slice_without_input_shape), so its output takes no dead buffer', () => {
  const b = new GraphBuilder();
  b.input('x', 'float32', [4, 8]);
  b.op('MatMul', ['x', b.weight('W', [8, 8])], { name: 'a', outputs: ['h1'] });
  b.op('MatMul', ['h1', b.weight('V', [8, 8])], { name: 'b', outputs: ['h2'] });
  b.op('MatMul', ['h2', b.weight('U', [8, 8])], { name: 'c', outputs: ['h3'] }); // h2's buffer is dead after c
  b.op('Shape', ['h3'], { name: 'shape', outputs: ['s'] }); // after c, so h2 is dead by then
  b.op('Gather', ['s', b.ints([0])], { name: 'rows', outputs: ['n'] }); // 4, computed by a node
  b.op('Slice', ['h1', b.ints([0]), 'n', b.ints([0])], { name: 'slice', outputs: ['cut'] });
  b.op('Add', ['cut', 'h3'], { name: 'add', outputs: ['y'] });
  b.output('y', 'float32', [4, 8]);
  const model = b.model(17);
  const bound = inferShapes(model, {}).tensors;
  const loadTime = loadTimeShapes(model);
  assert.deepEqual(bound.get('cut')?.shape, [4, 8]);
  assert.deepEqual(loadTime.get('cut')?.shape, [null, null]);
  const t = tabled(model);
  const sharersOfH2 = (shapes: typeof bound) => planAllocations(t.table, shapes, new Set(['y'])).buffers.find((x) => x.tensor === 'h2')?.sharedBy;
  assert.deepEqual(sharersOfH2(bound), ['cut']); // what a planner with the run's shapes would do
  assert.deepEqual(sharersOfH2(loadTime), []); // what ORT's planner does
});
