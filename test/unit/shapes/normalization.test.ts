import { test } from 'node:test';
import assert from 'node:assert/strict';
import { a, f32, run, t } from './build';

test('BatchNormalization inference: Y only; training mode (opset 15): running mean/var [C]', () => {
  const x = f32(8, 64, 14, 14);
  const c = f32(64);
  assert.deepEqual(run('BatchNormalization', [x, c, c, c, c])[0].shape, [8, 64, 14, 14]);
  const [y, mean, v] = run('BatchNormalization', [x, c, c, c, c], { training_mode: a.int(1) }, { opset: 15, outputs: 3 });
  assert.deepEqual([y.shape, mean.shape, v.shape], [[8, 64, 14, 14], [64], [64]]);
});

test('LayerNormalization Mean and InvStdDev: dims from axis on are 1, float32 stash type', () => {
  const [y, mean, inv] = run('LayerNormalization', [t('float16', [2, 128, 768]), t('float16', [768])], {}, { outputs: 3 });
  assert.deepEqual([y.dtype, y.shape], ['float16', [2, 128, 768]]);
  assert.deepEqual([mean.dtype, mean.shape, inv.shape], ['float32', [2, 128, 1], [2, 128, 1]]);
  const [, m2] = run('LayerNormalization', [f32(2, 3, 4, 5), f32(4, 5)], { axis: a.int(2) }, { outputs: 2 });
  assert.deepEqual(m2.shape, [2, 3, 1, 1]);
});

test('SkipLayerNormalization (com.microsoft): output, mean, inv_std_var, input_skip_bias_sum', () => {
  const [out, mean, inv, sum] = run('SkipLayerNormalization', [t('float16', [1, 16, 256]), t('float16', [1, 16, 256]), f32(256)], {}, { domain: 'com.microsoft', outputs: 4 });
  assert.deepEqual([out.shape, mean.shape, inv.shape, sum.shape], [[1, 16, 256], [1, 16, 1], [1, 16, 1], [1, 16, 256]]);
  assert.equal(sum.dtype, 'float16');
  const [o2] = run('SkipSimplifiedLayerNormalization', [f32(1, 4, 8), f32(1, 4, 8), f32(8)], {}, { domain: 'com.microsoft' });
  assert.deepEqual(o2.shape, [1, 4, 8]);
});

test('SimplifiedLayerNormalization, RMSNormalization, GroupNormalization, InstanceNormalization keep the input shape', () => {
  const [y, inv] = run('SimplifiedLayerNormalization', [f32(1, 9, 64), f32(64)], {}, { outputs: 2 });
  assert.deepEqual([y.shape, inv.shape], [[1, 9, 64], [1, 9, 1]]);
  assert.deepEqual(run('RMSNormalization', [f32(1, 9, 64), f32(64)], {}, { opset: 23 })[0].shape, [1, 9, 64]);
  assert.deepEqual(run('GroupNormalization', [f32(2, 32, 8, 8), f32(32), f32(32)], { num_groups: a.int(4) }, { opset: 21 })[0].shape, [2, 32, 8, 8]);
  assert.deepEqual(run('InstanceNormalization', [f32(2, 3, 5), f32(3), f32(3)])[0].shape, [2, 3, 5]);
});

test('Softmax and LogSoftmax keep shape', () => {
  assert.deepEqual(run('Softmax', [f32(2, 12, 128, 128)], { axis: a.int(-1) })[0].shape, [2, 12, 128, 128]);
  assert.deepEqual(run('LogSoftmax', [f32(4, 10)])[0].shape, [4, 10]);
});
