import { test } from 'node:test';
import assert from 'node:assert/strict';
import { a, f32, run, shape1, t } from './build';

test('ResNet stem: Conv 1x3x224x224 * 64x3x7x7, stride 2, pad 3 -> 1x64x112x112', () => {
  const y = shape1('Conv', [f32(1, 3, 224, 224), f32(64, 3, 7, 7)], { strides: a.ints([2, 2]), pads: a.ints([3, 3, 3, 3]) });
  assert.deepEqual(y, [1, 64, 112, 112]);
});

test('Conv auto_pad SAME_UPPER gives ceil(in/stride); VALID gives no padding', () => {
  const same = shape1('Conv', [f32(1, 8, 15, 15), f32(16, 8, 3, 3)], { strides: a.ints([2, 2]), auto_pad: a.string('SAME_UPPER') });
  assert.deepEqual(same, [1, 16, 8, 8]);
  const valid = shape1('Conv', [f32(1, 8, 15, 15), f32(16, 8, 3, 3)], { strides: a.ints([2, 2]), auto_pad: a.string('VALID') });
  assert.deepEqual(valid, [1, 16, 7, 7]); // floor((15-3)/2)+1
});

test('Conv dilation and groups (depthwise 1-D)', () => {
  // (100 + 0 - 2*(3-1) - 1)/1 + 1 = 96
  assert.deepEqual(shape1('Conv', [f32(2, 32, 100), f32(32, 1, 3)], { group: a.int(32), dilations: a.ints([2]) }), [2, 32, 96]);
  assert.throws(() => run('Conv', [f32(2, 32, 100), f32(32, 2, 3)], { group: a.int(32) }), /input channels/);
});

test('ConvTranspose: stride 2, pad 1, output_padding 1, kernel 3 doubles 16 -> 32', () => {
  // 2*(16-1) + 1 + (3-1)*1 + 1 - 2 = 32; channels = W[1] * group = 8
  const y = shape1('ConvTranspose', [f32(1, 16, 16, 16), f32(16, 8, 3, 3)], {
    strides: a.ints([2, 2]), pads: a.ints([1, 1, 1, 1]), output_padding: a.ints([1, 1]),
  });
  assert.deepEqual(y, [1, 8, 32, 32]);
  const fixed = shape1('ConvTranspose', [f32(1, 16, 16, 16), f32(16, 8, 3, 3)], { strides: a.ints([2, 2]), output_shape: a.ints([33, 33]) });
  assert.deepEqual(fixed, [1, 8, 33, 33]);
  const same = shape1('ConvTranspose', [f32(1, 16, 10, 10), f32(16, 4, 4, 4)], { strides: a.ints([3, 3]), auto_pad: a.string('SAME_UPPER'), group: a.int(2) });
  assert.deepEqual(same, [1, 8, 30, 30]);
});

test('MaxPool 3x3 stride 2 pad 1 on 112 -> 56, Indices int64', () => {
  const [y, idx] = run('MaxPool', [f32(1, 64, 112, 112)], { kernel_shape: a.ints([3, 3]), strides: a.ints([2, 2]), pads: a.ints([1, 1, 1, 1]) }, { outputs: 2 });
  assert.deepEqual(y.shape, [1, 64, 56, 56]);
  assert.deepEqual([idx.dtype, idx.shape], ['int64', [1, 64, 56, 56]]);
});

test('pooling ceil_mode: 112 k3 s2 -> 56 (floor gives 55); the last window must start inside', () => {
  const attrs = { kernel_shape: a.ints([3, 3]), strides: a.ints([2, 2]) };
  assert.deepEqual(shape1('MaxPool', [f32(1, 1, 112, 112)], { ...attrs, ceil_mode: a.int(1) }), [1, 1, 56, 56]);
  assert.deepEqual(shape1('MaxPool', [f32(1, 1, 112, 112)], attrs), [1, 1, 55, 55]);
  // in 5, k 2, s 2, pad 1 each side: ceil((5+2-2)/2)+1 = 4, but window 4 would start at 6 >= 5+1 -> 3
  const edge = shape1('AveragePool', [f32(1, 1, 5)], { kernel_shape: a.ints([2]), strides: a.ints([2]), pads: a.ints([1, 1]), ceil_mode: a.int(1) });
  assert.deepEqual(edge, [1, 1, 3]);
});

test('GlobalAveragePool keeps N and C, spatial dims become 1', () => {
  assert.deepEqual(shape1('GlobalAveragePool', [f32('n', 2048, 7, 7)]), ['n', 2048, 1, 1]);
});

test('LpPool and symbolic spatial dims', () => {
  assert.deepEqual(shape1('LpPool', [f32(1, 4, 'h', 8)], { kernel_shape: a.ints([2, 2]), strides: a.ints([2, 2]) }), [1, 4, null, 4]);
});

test('QLinearConv takes y_zero_point dtype; ConvInteger gives int32', () => {
  const q = run('QLinearConv', [t('uint8', [1, 3, 8, 8]), null, null, t('int8', [4, 3, 3, 3]), null, null, null, t('int8', [])]);
  assert.deepEqual([q[0].dtype, q[0].shape], ['int8', [1, 4, 6, 6]]);
  assert.equal(run('ConvInteger', [t('uint8', [1, 3, 8, 8]), t('uint8', [4, 3, 3, 3])])[0].dtype, 'int32');
});

test('DepthToSpace and SpaceToDepth', () => {
  assert.deepEqual(shape1('DepthToSpace', [f32(1, 16, 5, 6)], { blocksize: a.int(2) }), [1, 4, 10, 12]);
  assert.deepEqual(shape1('SpaceToDepth', [f32(1, 4, 10, 12)], { blocksize: a.int(2) }), [1, 16, 5, 6]);
});
