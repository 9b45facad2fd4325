import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemlensError } from '../../../extension/engine/errors';
import { decodeModel } from '../../../extension/engine/onnx/decode';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { inferShapes } from '../../../extension/engine/shapes/infer';
import { a, init, model, node, tensorOf, vi } from './build';

test('nodes out of order are inferred in dependency order', () => {
  const m = model({
    inputs: [vi('x', 'float32', [2, 3])],
    nodes: [node('Relu', ['h'], ['y']), node('Transpose', ['x'], ['h'])],
  });
  assert.deepEqual(tensorOf(inferShapes(m, {}), 'y').shape, [3, 2]);
});

test('a cycle is a MemlensError naming a node on it', () => {
  const m = model({
    inputs: [vi('x', 'float32', [2])],
    nodes: [node('Relu', ['x'], ['a0']), node('Add', ['a0', 'c'], ['b'], {}, '', 'add_b'), node('Neg', ['b'], ['c'], {}, '', 'neg_c')],
  });
  assert.throws(() => inferShapes(m, {}), (e: unknown) => e instanceof MemlensError && /graph 'g' has a cycle through node '(add_b|neg_c)'/.test(e.message));
});

test('an unknown operator does not abort: declared shapes are used, the rest is unknown, one warning per op type', () => {
  const m = model({
    inputs: [vi('x', 'float32', [2, 8])],
    nodes: [
      node('Bar', ['x'], ['u1'], {}, 'com.foo', 'bar1'),
      node('Bar', ['u1'], ['u2'], {}, 'com.foo', 'bar2'),
      node('Bar', ['x'], ['u3'], {}, 'com.foo', 'bar3'),
      node('Relu', ['u1'], ['r1']),
      node('Relu', ['u2'], ['r2']),
      node('Baz', ['x'], ['z']),
    ],
    valueInfo: [vi('u1', 'float32', [2, 'k'])],
  });
  const r = inferShapes(m, { k: 5 });
  assert.deepEqual(tensorOf(r, 'u1'), { dtype: 'float32', shape: [2, 5] });
  assert.deepEqual(tensorOf(r, 'r1').shape, [2, 5]);
  assert.deepEqual(r.unknown.sort(), ['r2', 'u2', 'u3', 'z']);
  assert.deepEqual(r.warnings, [
    'unknown operator com.foo:Bar (3 nodes): declared shapes used where present',
    'unknown operator Baz (1 node): declared shapes used where present',
  ]);
});

test('declared value_info fills dims a rule could not tell', () => {
  const m = model({
    inputs: [vi('x', 'float32', [3, 4]), vi('s', 'int64', [2])],
    nodes: [node('Reshape', ['x', 's'], ['y'])],
    valueInfo: [vi('y', 'float32', [12, 'one'])],
  });
  assert.deepEqual(tensorOf(inferShapes(m, { one: 1 }), 'y').shape, [12, 1]);
});

test('symbolic input dims are replaced from dims; unbound ones leave tensors unknown', () => {
  const m = model({
    inputs: [vi('ids', 'int64', ['batch', 'seq']), vi('extra', 'float32', ['foo', 4])],
    initializers: [init('emb', 'float32', [1000, 64])],
    nodes: [node('Gather', ['emb', 'ids'], ['h']), node('Relu', ['extra'], ['e'])],
  });
  const r = inferShapes(m, { batch: 2, seq: 16 });
  assert.deepEqual(tensorOf(r, 'h').shape, [2, 16, 64]);
  assert.deepEqual(r.unknown, ['extra', 'e']);
});

test('Constant nodes seed values: value tensor, value_ints, value_int', () => {
  const m = model({
    inputs: [vi('x', 'float32', [2, 12])],
    nodes: [
      node('Constant', [], ['shape'], { value_ints: a.ints([2, 3, -1]) }),
      node('Reshape', ['x', 'shape'], ['y']),
      node('Constant', [], ['k'], { value_int: a.int(4) }),
      node('Constant', [], ['c'], { value: a.tensor(init('cv', 'int64', [2], [4, 6])) }),
      node('Reshape', ['x', 'c'], ['z']),
    ],
  });
  const r = inferShapes(m, {});
  assert.deepEqual(tensorOf(r, 'y').shape, [2, 3, 4]);
  assert.deepEqual(tensorOf(r, 'k'), { dtype: 'int64', shape: [], value: [4] });
  assert.deepEqual(tensorOf(r, 'z').shape, [4, 6]);
});

test('a data-dependent operator is counted in unknown and named in a warning', () => {
  const m = model({
    inputs: [vi('x', 'float32', [3, 4])],
    nodes: [node('NonZero', ['x'], ['nz']), node('Transpose', ['nz'], ['idx'])],
  });
  const r = inferShapes(m, {});
  assert.deepEqual(r.unknown, ['nz', 'idx']);
  assert.deepEqual(tensorOf(r, 'idx').shape, [null, 2]);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /^size of NonZero outputs not inferable \(1 node, e.g. 'NonZero_nz'\): data-dependent/);
});

test('a rule that finds inconsistent inputs reports the node and the problem in one line', () => {
  const m = model({
    inputs: [vi('x', 'float32', ['batch', 77, 512])],
    initializers: [init('pos', 'float32', [77, 512])],
    nodes: [node('Add', ['x', 'pos'], ['y'], {}, '', 'text_model/embeddings/Add')],
  });
  assert.doesNotThrow(() => inferShapes(m, { batch: 4 }));
  const m2 = model({
    inputs: [vi('x', 'float32', ['batch', 'seq', 512])],
    initializers: [init('pos', 'float32', [77, 512])],
    nodes: [node('Add', ['x', 'pos'], ['y'], {}, '', 'text_model/embeddings/Add')],
  });
  assert.throws(() => inferShapes(m2, { batch: 4, seq: 128 }),
    { name: 'MemlensError', message: "node 'text_model/embeddings/Add' (Add): shapes [4,128,512] and [77,512] do not broadcast" });
});

test('an ONNX file round trip: Shape->Gather->Unsqueeze->Concat->Reshape folds to numbers', () => {
  // What torch.onnx.export writes for x.view(x.size(0), x.size(1), 4, -1).
  const m = model({
    inputs: [vi('x', 'float32', ['batch', 'sequence', 64])],
    initializers: [
      init('i0', 'int64', [], [0]),
      init('i1', 'int64', [], [1]),
      init('ax0', 'int64', [1], [0]),
      init('heads', 'int64', [1], [4]),
      init('minus1', 'int64', [1], [-1]),
      init('w', 'float32', [64, 64]),
    ],
    nodes: [
      node('MatMul', ['x', 'w'], ['h']),
      node('Shape', ['h'], ['s']),
      node('Gather', ['s', 'i0'], ['b'], { axis: a.int(0) }),
      node('Gather', ['s', 'i1'], ['t']),
      node('Unsqueeze', ['b', 'ax0'], ['b1']),
      node('Unsqueeze', ['t', 'ax0'], ['t1']),
      node('Concat', ['b1', 't1', 'heads', 'minus1'], ['target'], { axis: a.int(0) }),
      node('Reshape', ['h', 'target'], ['y']),
      node('Transpose', ['y'], ['yt'], { perm: a.ints([0, 2, 1, 3]) }),
    ],
    outputs: [vi('yt', 'float32', null)],
  }, { '': 17 });
  const decoded = decodeModel(encodeModel(m), 'chain.onnx');
  const r = inferShapes(decoded, { batch: 3, sequence: 7 });
  assert.deepEqual(tensorOf(r, 'target'), { dtype: 'int64', shape: [4], value: [3, 7, 4, -1] });
  assert.deepEqual(tensorOf(r, 'y').shape, [3, 7, 4, 16]);
  assert.deepEqual(tensorOf(r, 'yt').shape, [3, 4, 7, 16]);
  assert.deepEqual(r.unknown, []);
  assert.deepEqual(r.warnings, []);
  // Unbound, the chain still gives the rank and the named dims it can.
  const unbound = inferShapes(decoded, {});
  assert.deepEqual(tensorOf(unbound, 'y').shape, [null, null, null, null]);
  assert.ok(unbound.unknown.includes('y'));
});

test('tensors of the result: inputs, initializers, then node outputs in execution order', () => {
  const m = model({
    inputs: [vi('x', 'float32', [2])],
    initializers: [init('w', 'float32', [2])],
    nodes: [node('Mul', ['x', 'w'], ['y']), node('Relu', ['y'], ['z'])],
  });
  assert.deepEqual([...inferShapes(m, {}).tensors.keys()], ['x', 'w', 'y', 'z']);
});

test('a node reading a tensor nothing defines gives a warning, not a crash', () => {
  const m = model({ inputs: [vi('x', 'float32', [2])], nodes: [node('Add', ['x', 'ghost'], ['y'])] });
  const r = inferShapes(m, {});
  assert.deepEqual(tensorOf(r, 'y').shape, [2]);
  assert.match(r.warnings.join('\n'), /1 node input name a tensor that nothing defines \(first: 'ghost' of node 'Add_y'\)/);
});
