import { test } from 'node:test';
import assert from 'node:assert/strict';
import { a, f32, run, shape1 } from './build';

test('MatMul 2-D and batched with broadcasting', () => {
  assert.deepEqual(shape1('MatMul', [f32(3, 4), f32(4, 5)]), [3, 5]);
  assert.deepEqual(shape1('MatMul', [f32(2, 1, 3, 4), f32(7, 4, 5)]), [2, 7, 3, 5]);
  assert.deepEqual(shape1('MatMul', [f32('b', 128, 768), f32(768, 3072)]), ['b', 128, 3072]);
});

test('MatMul with 1-D operands drops the added dim', () => {
  assert.deepEqual(shape1('MatMul', [f32(4), f32(4, 5)]), [5]);
  assert.deepEqual(shape1('MatMul', [f32(2, 3, 4), f32(4)]), [2, 3]);
  assert.deepEqual(shape1('MatMul', [f32(4), f32(4)]), []);
});

test('MatMul inner dimension mismatch is an error', () => {
  assert.throws(() => run('MatMul', [f32(3, 4), f32(5, 6)]), /MatMul inner dimensions differ: 4 != 5/);
});

test('Gemm with transB: [8,256] x [1000,256]^T -> [8,1000]', () => {
  assert.deepEqual(shape1('Gemm', [f32(8, 256), f32(1000, 256), f32(1000)], { transB: a.int(1) }), [8, 1000]);
  assert.deepEqual(shape1('Gemm', [f32(256, 8), f32(256, 1000)], { transA: a.int(1) }), [8, 1000]);
});

test('com.microsoft FusedMatMul moves the first dim before the last two with transBatchA/B, then transposes', () => {
  // Attention's Q K^T as ORT fuses it: Q, K [L=197, heads=6, 64] -> [6, 197, 64] and [6, 64, 197].
  const attrs = { transBatchA: a.int(1), transBatchB: a.int(1), transB: a.int(1) };
  assert.deepEqual(shape1('FusedMatMul', [f32(197, 6, 64), f32(197, 6, 64)], attrs, { domain: 'com.microsoft' }), [6, 197, 197]);
  assert.deepEqual(shape1('FusedMatMul', [f32(6, 197, 197), f32(197, 6, 64)], { transBatchB: a.int(1) }, { domain: 'com.microsoft' }), [6, 197, 64]);
});

test('com.microsoft FusedMatMul honours transB', () => {
  assert.deepEqual(shape1('FusedMatMul', [f32(2, 3, 4), f32(2, 5, 4)], { transB: a.int(1) }, { domain: 'com.microsoft' }), [2, 3, 5]);
});
