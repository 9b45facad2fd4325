import { test } from 'node:test';
import assert from 'node:assert/strict';
import { a, f32, run, shape1, t } from './build';

test('Einsum: explicit, implicit and ellipsis equations', () => {
  assert.deepEqual(shape1('Einsum', [f32(2, 3), f32(3, 4)], { equation: a.string('ij,jk->ik') }), [2, 4]);
  assert.deepEqual(shape1('Einsum', [f32(2, 12, 128, 64), f32(2, 12, 128, 64)], { equation: a.string('bhqd,bhkd->bhqk') }), [2, 12, 128, 128]);
  assert.deepEqual(shape1('Einsum', [f32(5, 2, 3), f32(5, 3, 4)], { equation: a.string('...ij,...jk') }), [5, 2, 4]);
  assert.deepEqual(shape1('Einsum', [f32(3, 3)], { equation: a.string('ii->i') }), [3]);
  assert.deepEqual(shape1('Einsum', [f32(2, 3), f32(4)], { equation: a.string('ij,k') }), [2, 3, 4]);
  assert.throws(() => run('Einsum', [f32(2, 3), f32(4, 5)], { equation: a.string('ij,jk->ik') }), /label 'j' is 3 in one operand and 4/);
});

test('Resize: sizes, scales (floor), axes (opset 18) and keep_aspect_ratio_policy', () => {
  assert.deepEqual(shape1('Resize', [f32(1, 3, 10, 10), null, null, t('int64', [4], [1, 3, 32, 48])], {}, { opset: 13 }), [1, 3, 32, 48]);
  assert.deepEqual(shape1('Resize', [f32(1, 3, 10, 15), null, t('float32', [4], [1, 1, 2, 1.5])], {}, { opset: 13 }), [1, 3, 20, 22]);
  assert.deepEqual(shape1('Resize', [f32(1, 3, 10, 15), null, t('float32', [2], [2, 2])], { axes: a.ints([2, 3]) }, { opset: 18 }), [1, 3, 20, 30]);
  // not_larger: scale = min(64/20, 64/10) = 3.2 -> [64, 32]
  assert.deepEqual(shape1('Resize', [f32(1, 3, 20, 10), null, null, t('int64', [2], [64, 64])],
    { axes: a.ints([2, 3]), keep_aspect_ratio_policy: a.string('not_larger') }, { opset: 18 }), [1, 3, 64, 32]);
  assert.deepEqual(shape1('Upsample', [f32(1, 3, 10, 10), t('float32', [4], [1, 1, 2, 2])], { mode: a.string('nearest') }, { opset: 9 }), [1, 3, 20, 20]);
});

test('LSTM: Y [T, dirs, B, H], Y_h and Y_c [dirs, B, H]; batch-first layout', () => {
  const [y, h, c] = run('LSTM', [f32(35, 4, 10), f32(2, 80, 10), f32(2, 80, 20)],
    { hidden_size: a.int(20), direction: a.string('bidirectional') }, { outputs: 3 });
  assert.deepEqual([y.shape, h.shape, c.shape], [[35, 2, 4, 20], [2, 4, 20], [2, 4, 20]]);
  const [yb] = run('GRU', [f32(4, 35, 10), f32(1, 60, 10), f32(1, 60, 20)], { hidden_size: a.int(20), layout: a.int(1) }, { opset: 14 });
  assert.deepEqual(yb.shape, [4, 35, 1, 20]);
});

test('losses: scalar under mean/sum reduction, the target shape under none; log-probabilities like the scores', () => {
  const [loss, logp] = run('SoftmaxCrossEntropyLoss', [f32(8, 50257, 256), t('int64', [8, 256])], {}, { outputs: 2 });
  assert.deepEqual([loss.shape, logp.shape, loss.dtype], [[], [8, 50257, 256], 'float32']);
  assert.deepEqual(shape1('SoftmaxCrossEntropyLoss', [f32(8, 10), t('int64', [8])], { reduction: a.string('none') }), [8]);
  assert.deepEqual(shape1('NegativeLogLikelihoodLoss', [f32(8, 10, 4), t('int64', [8, 4])], { reduction: a.string('sum') }), []);
});
