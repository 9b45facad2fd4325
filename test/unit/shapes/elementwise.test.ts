import { test } from 'node:test';
import assert from 'node:assert/strict';
import { a, f32, i64, run, scalar, shape1, t } from './build';

test('Add broadcasts numpy-style: [2,1,4] + [3,1] -> [2,3,4]', () => {
  assert.deepEqual(shape1('Add', [f32(2, 1, 4), f32(3, 1)]), [2, 3, 4]);
});

test('a named dim broadcasts against 1 and against itself, a number wins over a name', () => {
  assert.deepEqual(shape1('Mul', [f32('b', 1, 8), f32(1, 'seq', 8)]), ['b', 'seq', 8]);
  assert.deepEqual(shape1('Sub', [f32('x', 8), f32(5, 8)]), [5, 8]);
});

test('shapes that cannot broadcast are a one-line error naming the node', () => {
  assert.throws(() => run('Add', [f32(2, 3), f32(2, 4)]), /node 'Add_out0' \(Add\): shapes \[2,3\] and \[2,4\] do not broadcast/);
});

test('comparisons give bool, Where takes the dtype of X and broadcasts all three', () => {
  const [eq] = run('Equal', [t('int64', [4]), t('int64', [1])]);
  assert.equal(eq.dtype, 'bool');
  const [w] = run('Where', [t('bool', [2, 1, 1]), t('float16', [1, 3, 1]), t('float16', [1, 1, 5])]);
  assert.deepEqual([w.dtype, w.shape], ['float16', [2, 3, 5]]);
});

test('unary activations keep shape and dtype', () => {
  for (const op of ['Relu', 'Gelu', 'Sigmoid', 'Tanh', 'Erf', 'HardSwish', 'Mish', 'Softmax', 'Trilu', 'CumSum']) {
    const [y] = run(op, [t('float16', ['b', 7, 3])]);
    assert.deepEqual([y.dtype, y.shape], ['float16', ['b', 7, 3]], op);
  }
});

test('integer arithmetic folds: Div truncates, Mod follows the divisor sign', () => {
  assert.deepEqual(run('Div', [i64(7, -7, 9), i64(2)])[0].value, [3, -3, 4]);
  assert.deepEqual(run('Mod', [i64(7, -7), i64(3)])[0].value, [1, 2]);
  assert.deepEqual(run('Mul', [i64(2, 3), scalar(4)])[0].value, [8, 12]);
  assert.deepEqual(run('Sub', [i64(10), i64(1, 2, 3)])[0].value, [9, 8, 7]);
  assert.deepEqual(run('Max', [i64(1, 5), i64(3, 2), i64(0, 9)])[0].value, [3, 9]);
});

test('Equal and Where fold on small integer tensors', () => {
  const [eq] = run('Equal', [i64(1, -1, 64), scalar(-1)]);
  assert.deepEqual(eq.value, [0, 1, 0]);
  const [w] = run('Where', [t('bool', [3], [0, 1, 0]), i64(1, 1, 1), i64(2, 12, 64)]);
  assert.deepEqual(w.value, [2, 1, 64]);
});

test('Cast folds with truncation and changes dtype; CastLike takes the second input dtype', () => {
  const [c] = run('Cast', [t('float32', [2], [2.7, -1.5])], { to: a.int(7) });
  assert.deepEqual([c.dtype, c.value], ['int64', [2, -1]]);
  const [cl] = run('CastLike', [f32(3), t('float16', [1])]);
  assert.deepEqual([cl.dtype, cl.shape], ['float16', [3]]);
});

test('Dropout has a bool mask output of the same shape (opset >= 10)', () => {
  const [y, mask] = run('Dropout', [f32(2, 5)], {}, { outputs: 2 });
  assert.deepEqual([y.shape, mask.dtype, mask.shape], [[2, 5], 'bool', [2, 5]]);
});

test('IsNaN gives bool; Clip folds with min/max inputs (opset 13)', () => {
  assert.equal(run('IsNaN', [f32(4)])[0].dtype, 'bool');
  assert.deepEqual(run('Clip', [i64(-5, 3, 99), scalar(0), scalar(10)], {}, { opset: 13 })[0].value, [0, 3, 10]);
});

test('com.microsoft FastGelu broadcasts its bias', () => {
  assert.deepEqual(shape1('FastGelu', [f32(2, 16, 64), f32(64)], {}, { domain: 'com.microsoft' }), [2, 16, 64]);
});

test('variadic Sum and Mean broadcast all inputs', () => {
  assert.deepEqual(shape1('Sum', [f32(3, 1), f32(1, 4), f32(4)]), [3, 4]);
  assert.deepEqual(shape1('Mean', [f32(2, 1), f32(2, 6)]), [2, 6]);
});
