import { test } from 'node:test';
import assert from 'node:assert/strict';
import { a, f32, i64, run, shape1, t } from './build';

test('Slice with negative indices, clamping and axes (opset 13 inputs)', () => {
  assert.deepEqual(shape1('Slice', [f32(10, 20), i64(2), i64(-1), i64(1)]), [10, 17]);
  // ends far past the end clamp (INT64_MAX as exporters write it; 2^63 is the double it reads as)
  assert.deepEqual(shape1('Slice', [f32(10, 20), i64(0, 5), i64(3, 2 ** 63)]), [3, 15]);
  assert.deepEqual(shape1('Slice', [f32(10, 20), i64(-100), i64(100), i64(0)]), [10, 20]);
});

test('Slice with negative steps: reverse and every other element backwards', () => {
  const INT64_MIN = -9223372036854775808;
  assert.deepEqual(shape1('Slice', [f32(10), i64(-1), i64(INT64_MIN), i64(0), i64(-1)]), [10]);
  assert.deepEqual(shape1('Slice', [f32(10), i64(8), i64(1), i64(0), i64(-2)]), [4]); // 8,6,4,2
  const [v] = run('Slice', [i64(0, 1, 2, 3, 4, 5), i64(5), i64(0), i64(0), i64(-2)]);
  assert.deepEqual(v.value, [5, 3, 1]);
});

test('Slice in opset 9 reads starts/ends/axes from attributes', () => {
  assert.deepEqual(shape1('Slice', [f32(4, 8, 16)], { starts: a.ints([1, 0]), ends: a.ints([3, -4]), axes: a.ints([0, 2]) }, { opset: 9 }), [2, 8, 12]);
});

test('Slice with unknown starts leaves only the sliced axes unknown', () => {
  assert.deepEqual(shape1('Slice', [f32(4, 8), t('int64', [1]), i64(5), i64(1)]), [4, null]);
});

test('Gather: data[:axis] + indices.shape + data[axis+1:], and folds on shapes', () => {
  assert.deepEqual(shape1('Gather', [f32(50257, 768), t('int64', [2, 128])]), [2, 128, 768]);
  assert.deepEqual(shape1('Gather', [f32(2, 128, 768), t('int64', [])], { axis: a.int(1) }), [2, 768]);
  assert.deepEqual(run('Gather', [i64(2, 128, 768), t('int64', [], [-1])])[0], { dtype: 'int64', shape: [], value: [768] });
  assert.deepEqual(run('Gather', [i64(2, 128, 768), i64(0, 1)])[0].value, [2, 128]);
});

test('GatherElements takes the indices shape, GatherND with batch_dims', () => {
  assert.deepEqual(shape1('GatherElements', [f32(3, 4), t('int64', [3, 2])]), [3, 2]);
  assert.deepEqual(shape1('GatherND', [f32(2, 3, 4), t('int64', [2, 1])]), [2, 3, 4]);
  assert.deepEqual(shape1('GatherND', [f32(2, 3, 4), t('int64', [2, 2])]), [2, 4]);
  assert.deepEqual(shape1('GatherND', [f32(2, 3, 4), t('int64', [2, 1])], { batch_dims: a.int(1) }), [2, 4]);
  assert.deepEqual(shape1('ScatterND', [f32(4, 4), t('int64', [2, 1]), f32(2, 4)]), [4, 4]);
});

test('Concat sums the axis, checks the others, and folds', () => {
  assert.deepEqual(shape1('Concat', [f32(2, 3), f32(2, 5)], { axis: a.int(-1) }), [2, 8]);
  assert.deepEqual(shape1('Concat', [f32(1, 8, 'past', 64), f32(1, 8, 1, 64)], { axis: a.int(2) }), [1, 8, null, 64]);
  assert.throws(() => run('Concat', [f32(2, 3), f32(4, 5)], { axis: a.int(1) }), /Concat inputs differ on axis 0/);
  assert.deepEqual(run('Concat', [i64(2), i64(-1), i64(12, 64)], { axis: a.int(0) })[0].value, [2, -1, 12, 64]);
});

test('Split: opset 11 attribute, opset 13 input, opset 18 num_outputs with an uneven last part', () => {
  const s11 = run('Split', [f32(10, 4)], { split: a.ints([3, 7]) }, { opset: 11, outputs: 2 });
  assert.deepEqual(s11.map((x) => x.shape), [[3, 4], [7, 4]]);
  const s13 = run('Split', [f32(4, 10), i64(2, 8)], { axis: a.int(1) }, { opset: 13, outputs: 2 });
  assert.deepEqual(s13.map((x) => x.shape), [[4, 2], [4, 8]]);
  const equal = run('Split', [f32(2, 12, 5)], { axis: a.int(1) }, { opset: 13, outputs: 3 });
  assert.deepEqual(equal.map((x) => x.shape), [[2, 4, 5], [2, 4, 5], [2, 4, 5]]);
  const s18 = run('Split', [f32(10)], { num_outputs: a.int(3) }, { opset: 18, outputs: 3 });
  assert.deepEqual(s18.map((x) => x.shape), [[4], [4], [2]]);
  assert.throws(() => run('Split', [f32(10), i64(3, 3)], {}, { opset: 13, outputs: 2 }), /do not add up to 10/);
});

test('Pad: attribute (opset 2), input (opset 13), axes input (opset 18), negative pads crop', () => {
  assert.deepEqual(shape1('Pad', [f32(1, 3, 4, 4)], { pads: a.ints([0, 0, 1, 2, 0, 0, 3, 4]) }, { opset: 2 }), [1, 3, 8, 10]);
  assert.deepEqual(shape1('Pad', [f32(1, 3, 4, 4), i64(0, 0, 1, 1, 0, 0, -1, -1)], {}, { opset: 13 }), [1, 3, 4, 4]);
  assert.deepEqual(shape1('Pad', [f32(1, 3, 4, 4), i64(2, 0, 1, 5), null, i64(-1, 1)], {}, { opset: 18 }), [1, 8, 4, 7]);
});

test('OneHot inserts depth at the axis with the values dtype', () => {
  assert.deepEqual(run('OneHot', [t('int64', [2, 3]), t('int64', [], [10]), t('float16', [2])])[0], { dtype: 'float16', shape: [2, 3, 10] });
  assert.deepEqual(shape1('OneHot', [t('int64', [2, 3]), t('int64', [], [10]), f32(2)], { axis: a.int(0) }), [10, 2, 3]);
});

test('NonZero is data-dependent: [rank, unknown] unless its input is a folded constant', () => {
  assert.deepEqual(run('NonZero', [f32(3, 4)])[0], { dtype: 'int64', shape: [2, null] });
  assert.deepEqual(run('NonZero', [t('int64', [2, 2], [1, 0, 0, 3])])[0], { dtype: 'int64', shape: [2, 2], value: [0, 1, 0, 1] });
});

test('Compress and Unique are data-dependent unless the condition is folded; Pad-1 reads `paddings`', () => {
  assert.deepEqual(shape1('Compress', [f32(5, 3), t('bool', [5])], { axis: a.int(0) }), [null, 3]);
  assert.deepEqual(shape1('Compress', [f32(5, 3), t('bool', [5], [1, 0, 1, 1, 0])], { axis: a.int(0) }), [3, 3]);
  assert.deepEqual(shape1('Compress', [f32(5, 3), t('bool', [4], [1, 0, 1, 1])]), [3]);
  const [y, , inverse] = run('Unique', [t('int64', [6])], {}, { outputs: 4 });
  assert.deepEqual([y.shape, inverse.shape], [[null], [6]]);
  assert.deepEqual(shape1('Pad', [f32(2, 3)], { paddings: a.ints([1, 0, 1, 2]) }, { opset: 1 }), [4, 5]);
});
