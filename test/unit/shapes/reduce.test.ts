import { test } from 'node:test';
import assert from 'node:assert/strict';
import { a, f32, i64, run, shape1, t } from './build';

test('ReduceMean axes attribute (opset 13) with and without keepdims', () => {
  assert.deepEqual(shape1('ReduceMean', [f32(2, 3, 4)], { axes: a.ints([-1]) }, { opset: 13 }), [2, 3, 1]);
  assert.deepEqual(shape1('ReduceMean', [f32(2, 3, 4)], { axes: a.ints([1, 2]), keepdims: a.int(0) }, { opset: 13 }), [2]);
});

test('ReduceSum takes axes as an input from opset 13, the others from opset 18', () => {
  assert.deepEqual(shape1('ReduceSum', [f32(2, 3, 4), i64(1)], { keepdims: a.int(0) }, { opset: 13 }), [2, 4]);
  assert.deepEqual(shape1('ReduceMax', [f32(2, 3, 4), i64(0, 2)], {}, { opset: 18 }), [1, 3, 1]);
  assert.deepEqual(shape1('ReduceL2', [f32(2, 3, 4), i64(0)], { keepdims: a.int(0) }, { opset: 18 }), [3, 4]);
});

test('no axes reduces everything, unless noop_with_empty_axes', () => {
  assert.deepEqual(shape1('ReduceSumSquare', [f32(2, 3)], { keepdims: a.int(0) }, { opset: 18 }), []);
  assert.deepEqual(shape1('ReduceLogSumExp', [f32(2, 3)], {}, { opset: 18 }), [1, 1]);
  assert.deepEqual(shape1('ReduceSum', [f32(2, 3)], { noop_with_empty_axes: a.int(1) }, { opset: 13 }), [2, 3]);
});

test('ReduceProd of a folded shape folds (flattened size)', () => {
  assert.deepEqual(run('ReduceProd', [i64(4, 5, 6)], { keepdims: a.int(0) }, { opset: 13 })[0], { dtype: 'int64', shape: [], value: [120] });
});

test('axes given by an unfolded input: keepdims keeps the rank', () => {
  assert.deepEqual(shape1('ReduceMin', [f32(2, 3, 4), t('int64', [1])], {}, { opset: 18 }), [null, null, null]);
  assert.deepEqual(shape1('ReduceMin', [f32(2, 3, 4), t('int64', [1])], { keepdims: a.int(0) }, { opset: 18 }), [null, null]);
});

test('ArgMax is int64 and drops or keeps the axis', () => {
  const [y] = run('ArgMax', [f32(4, 10)], { axis: a.int(1), keepdims: a.int(0) });
  assert.deepEqual([y.dtype, y.shape], ['int64', [4]]);
  assert.deepEqual(shape1('ArgMin', [f32(4, 10)]), [1, 10]);
});

test('TopK: K from the input (opset >= 10) or the attribute (opset 1)', () => {
  const [v, i] = run('TopK', [f32(3, 100), i64(5)], {}, { outputs: 2 });
  assert.deepEqual([v.shape, i.dtype, i.shape], [[3, 5], 'int64', [3, 5]]);
  assert.deepEqual(run('TopK', [f32(3, 100)], { k: a.int(7), axis: a.int(0) }, { opset: 1, outputs: 2 })[0].shape, [7, 100]);
});
