import { test } from 'node:test';
import assert from 'node:assert/strict';
import { a, f32, i64, init, model, node, run, shape1, t, vi } from './build';
import { inferShapes } from '../../../extension/engine/shapes/infer';

test('Reshape with 0 (copy) and -1 (inferred)', () => {
  assert.deepEqual(shape1('Reshape', [f32(2, 128, 768), i64(0, 0, 12, -1)]), [2, 128, 12, 64]);
  assert.deepEqual(shape1('Reshape', [f32(2, 3, 4), i64(-1)]), [24]);
  assert.deepEqual(shape1('Reshape', [f32(6, 4), i64(3, -1, 2)]), [3, 4, 2]);
});

test('Reshape allowzero=1 makes 0 a real size', () => {
  assert.deepEqual(shape1('Reshape', [f32(0, 4), i64(0, 2, 2)], { allowzero: a.int(1) }, { opset: 14 }), [0, 2, 2]);
});

test('Reshape keeps named dims through 0 and resolves -1 by cancelling them', () => {
  assert.deepEqual(shape1('Reshape', [f32('b', 128, 768), i64(0, 0, 12, -1)]), ['b', 128, 12, 64]);
  assert.deepEqual(shape1('Reshape', [f32(null, 128, 768), i64(0, -1)]), [null, 98304]);
  // [b, 4, 8] -> [-1, 8]: -1 is b*4, not expressible: unknown
  assert.deepEqual(shape1('Reshape', [f32('b', 4, 8), i64(-1, 8)]), [null, 8]);
  assert.deepEqual(shape1('Reshape', [f32('b', 4, 8), i64(-1, 32)]), ['b', 32]);
});

test('Reshape with a wrong element count is an error', () => {
  assert.throws(() => run('Reshape', [f32(2, 3), i64(4, 2)]), /cannot reshape \[2,3\] to \[4,2\]/);
  assert.throws(() => run('Reshape', [f32(2, 3), i64(4, -1)]), /cannot reshape/);
});

test('Reshape with an unknown target keeps the rank from the target length', () => {
  assert.deepEqual(shape1('Reshape', [f32(2, 3), t('int64', [3])]), [null, null, null]);
});

test('Flatten: axis 1 default, axis 0, negative axis', () => {
  assert.deepEqual(shape1('Flatten', [f32(2, 3, 4, 5)]), [2, 60]);
  assert.deepEqual(shape1('Flatten', [f32(2, 3, 4, 5)], { axis: a.int(0) }), [1, 120]);
  assert.deepEqual(shape1('Flatten', [f32('n', 3, 4, 5)], { axis: a.int(-3) }), ['n', 60]);
});

test('Squeeze/Unsqueeze: axes attribute in opset 11, input in opset 13', () => {
  assert.deepEqual(shape1('Squeeze', [f32(1, 3, 1, 5)], { axes: a.ints([0, -2]) }, { opset: 11 }), [3, 5]);
  assert.deepEqual(shape1('Squeeze', [f32(1, 3, 1, 5), i64(2)], {}, { opset: 13 }), [1, 3, 5]);
  assert.deepEqual(shape1('Squeeze', [f32(1, 3, 1, 5)], {}, { opset: 13 }), [3, 5]);
  assert.deepEqual(shape1('Unsqueeze', [f32(3, 5)], { axes: a.ints([0, 3]) }, { opset: 11 }), [1, 3, 5, 1]);
  assert.deepEqual(shape1('Unsqueeze', [f32(3, 5), i64(-1, 1)], {}, { opset: 13 }), [3, 1, 5, 1]);
  assert.throws(() => run('Squeeze', [f32(2, 3), i64(0)], {}, { opset: 13 }), /cannot squeeze axis 0 of size 2/);
});

test('Unsqueeze and Squeeze carry folded values (shape scalars to 1-D)', () => {
  assert.deepEqual(run('Unsqueeze', [t('int64', [], [7]), i64(0)], {}, { opset: 13 })[0], { dtype: 'int64', shape: [1], value: [7] });
});

test('Transpose with perm and default reverse', () => {
  assert.deepEqual(shape1('Transpose', [f32(2, 3, 4, 5)], { perm: a.ints([0, 2, 1, 3]) }), [2, 4, 3, 5]);
  assert.deepEqual(shape1('Transpose', [f32(2, 3, 4)]), [4, 3, 2]);
});

test('Expand broadcasts to the target; Tile multiplies', () => {
  assert.deepEqual(shape1('Expand', [f32(3, 1), i64(2, 1, 6)]), [2, 3, 6]);
  assert.deepEqual(shape1('Tile', [f32(2, 3), i64(2, 4)]), [4, 12]);
  assert.deepEqual(run('Tile', [i64(1, 2), i64(3)])[0].value, [1, 2, 1, 2, 1, 2]);
});

test('Shape with start/end (opset 15) folds; Size folds', () => {
  const [s] = run('Shape', [f32(2, 3, 4, 5)], { start: a.int(1), end: a.int(-1) }, { opset: 15 });
  assert.deepEqual(s, { dtype: 'int64', shape: [2], value: [3, 4] });
  assert.deepEqual(run('Size', [f32(2, 3, 4)])[0], { dtype: 'int64', shape: [], value: [24] });
  assert.deepEqual(run('Shape', [f32('b', 3)])[0], { dtype: 'int64', shape: [2] });
});

test('ConstantOfShape and Range fold; Range counts ceil((limit-start)/delta)', () => {
  const [c] = run('ConstantOfShape', [i64(2, 3)], { value: a.tensor({ name: 'v', dtype: 'int64', dims: [1], values: [1], external: false }) });
  assert.deepEqual(c, { dtype: 'int64', shape: [2, 3], value: [1, 1, 1, 1, 1, 1] });
  assert.equal(run('ConstantOfShape', [i64(4)])[0].dtype, 'float32');
  const [r] = run('Range', [t('int64', [], [0]), t('int64', [], [10]), t('int64', [], [3])]);
  assert.deepEqual(r, { dtype: 'int64', shape: [4], value: [0, 3, 6, 9] });
  assert.deepEqual(run('Range', [t('int64', [], [5]), t('int64', [], [1]), t('int64', [], [1])])[0].shape, [0]);
  assert.deepEqual(run('Range', [t('int64', [], [0]), t('int64', []), t('int64', [], [1])])[0].shape, [null]);
});

test('Transpose folds the values of a small constant of any rank', () => {
  const out = run('Transpose', [t('int64', [2, 3], [1, 2, 3, 4, 5, 6])], { perm: a.ints([1, 0]) })[0];
  assert.deepEqual(out, { dtype: 'int64', shape: [3, 2], value: [1, 4, 2, 5, 3, 6] });
  const cube = run('Transpose', [t('int64', [2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7])], { perm: a.ints([2, 0, 1]) })[0];
  assert.deepEqual(cube.value, [0, 2, 4, 6, 1, 3, 5, 7]);
});

test("PyTorch's pad export (pads reshaped to pairs, reversed, transposed, flattened) gives Pad a known size", () => {
  // The exporter lays pads out as (begin, end) pairs from the last axis back, reshapes them to
  // [4, 2], reverses the rows with a Slice of step -1, transposes to [2, 4] and flattens the result
  // to ONNX's begins-then-ends order.
  const m = model({
    inputs: [vi('x', 'float32', [1, 5, 5, 8])],
    initializers: [
      init('pads', 'int64', [8], [0, 0, 0, 1, 0, 3, 0, 0]), init('pairs', 'int64', [2], [-1, 2]),
      init('s', 'int64', [1], [-1]), init('e', 'int64', [1], [-(2 ** 63)]), init('ax', 'int64', [1], [0]),
      init('st', 'int64', [1], [-1]), init('flat', 'int64', [1], [-1]),
    ],
    nodes: [
      node('Reshape', ['pads', 'pairs'], ['p2']),
      node('Slice', ['p2', 's', 'e', 'ax', 'st'], ['rev']),
      node('Transpose', ['rev'], ['tr'], { perm: a.ints([1, 0]) }),
      node('Reshape', ['tr', 'flat'], ['onnxPads']),
      node('Pad', ['x', 'onnxPads'], ['y'], { mode: a.string('constant') }),
    ],
  });
  const r = inferShapes(m, {});
  assert.deepEqual(r.tensors.get('onnxPads')?.value, [0, 0, 0, 0, 0, 3, 1, 0]);
  assert.deepEqual(r.tensors.get('y')?.shape, [1, 8, 6, 8]);
  assert.deepEqual(r.unknown, []);
});
