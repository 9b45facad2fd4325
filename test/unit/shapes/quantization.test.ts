import { test } from 'node:test';
import assert from 'node:assert/strict';
import { a, f32, run, t } from './build';

test('MatMulNBits: [B, S, K] x (N, K, 4 bits, block 32) -> [B, S, N] of A dtype', () => {
  // B is [N, ceil(K/block), block*bits/8] = [11008, 128, 16] uint8
  const [y] = run('MatMulNBits', [t('float16', [1, 7, 4096]), t('uint8', [11008, 128, 16]), t('float16', [11008 * 128])],
    { K: a.int(4096), N: a.int(11008), bits: a.int(4), block_size: a.int(32) }, { domain: 'com.microsoft' });
  assert.deepEqual([y.dtype, y.shape], ['float16', [1, 7, 11008]]);
  assert.throws(() => run('MatMulNBits', [f32(1, 7, 4000), t('uint8', [8, 125, 16])], { K: a.int(4096), N: a.int(8) }, { domain: 'com.microsoft' }), /inner dimensions differ/);
});

test('QuantizeLinear takes the zero point dtype (uint8 by default); DequantizeLinear the scale dtype', () => {
  assert.deepEqual(run('QuantizeLinear', [f32(2, 3), f32()])[0], { dtype: 'uint8', shape: [2, 3] });
  assert.equal(run('QuantizeLinear', [f32(2, 3), f32(), t('int8', [])])[0].dtype, 'int8');
  assert.equal(run('QuantizeLinear', [f32(2, 3), f32()], { output_dtype: a.int(3) }, { opset: 21 })[0].dtype, 'int8');
  assert.deepEqual(run('DequantizeLinear', [t('int8', [4, 8]), t('float16', [])])[0], { dtype: 'float16', shape: [4, 8] });
});

test('DynamicQuantizeLinear: uint8 y, float32 and uint8 scalars', () => {
  const [y, s, z] = run('DynamicQuantizeLinear', [f32(3, 4)], {}, { outputs: 3 });
  assert.deepEqual([y, s, z], [{ dtype: 'uint8', shape: [3, 4] }, { dtype: 'float32', shape: [] }, { dtype: 'uint8', shape: [] }]);
});

test('MatMulInteger gives int32; QLinearMatMul takes y_zero_point dtype', () => {
  assert.deepEqual(run('MatMulInteger', [t('uint8', [2, 5, 16]), t('int8', [16, 4])])[0], { dtype: 'int32', shape: [2, 5, 4] });
  const q = run('QLinearMatMul', [t('uint8', [3, 16]), f32(), t('uint8', []), t('uint8', [16, 4]), f32(), t('uint8', []), f32(), t('uint8', [])]);
  assert.deepEqual(q[0], { dtype: 'uint8', shape: [3, 4] });
});
