import { test } from 'node:test';
import assert from 'node:assert/strict';
import { a, f32, run, t } from './build';

const ms = { domain: 'com.microsoft' };

test('GroupQueryAttention: present K/V [B, kv_heads, past + S, head] with a folded total length', () => {
  // Llama-3-8B-like: 32 heads, 8 KV heads, head 128; past 100, new tokens 4, total 104.
  const q = t('float16', [1, 4, 4096]);
  const kv = t('float16', [1, 4, 1024]);
  const past = t('float16', [1, 8, 100, 128]);
  const [out, pk, pv] = run('GroupQueryAttention', [q, kv, kv, past, past, t('int32', [1]), t('int32', [], [104])],
    { num_heads: a.int(32), kv_num_heads: a.int(8) }, { ...ms, outputs: 3 });
  assert.deepEqual([out.dtype, out.shape], ['float16', [1, 4, 4096]]);
  assert.deepEqual(pk.shape, [1, 8, 104, 128]);
  assert.deepEqual(pv.shape, [1, 8, 104, 128]);
});

test('GroupQueryAttention: shared buffer keeps max(total, past); unknown total means past + S', () => {
  const q = t('float16', [1, 1, 4096]);
  const kv = t('float16', [1, 1, 1024]);
  const maxPast = t('float16', [1, 8, 2048, 128]);
  const [, shared] = run('GroupQueryAttention', [q, kv, kv, maxPast, maxPast, t('int32', [1]), t('int32', [], [105])],
    { num_heads: a.int(32), kv_num_heads: a.int(8) }, { ...ms, outputs: 3 });
  assert.deepEqual(shared.shape, [1, 8, 2048, 128]);
  const past = t('float16', [1, 8, 100, 128]);
  const [, grown] = run('GroupQueryAttention', [q, kv, kv, past, past, t('int32', [1]), t('int32', [])],
    { num_heads: a.int(32), kv_num_heads: a.int(8) }, { ...ms, outputs: 3 });
  assert.deepEqual(grown.shape, [1, 8, 101, 128]);
});

test('GroupQueryAttention with packed QKV: head = D / (N + 2 N_kv)', () => {
  const [out, pk] = run('GroupQueryAttention', [t('float16', [2, 16, 6144]), null, null, null, null, t('int32', [2]), t('int32', [], [16])],
    { num_heads: a.int(32), kv_num_heads: a.int(8) }, { ...ms, outputs: 3 });
  assert.deepEqual([out.shape, pk.shape], [[2, 16, 4096], [2, 8, 16, 128]]);
});

test('com.microsoft Attention: output [B,S,Dv], present [2,B,N,P+S,H]', () => {
  const [out, present] = run('Attention', [f32(2, 8, 768), f32(768, 2304), f32(2304), t('int32', [2]), f32(2, 2, 12, 20, 64)],
    { num_heads: a.int(12) }, { ...ms, outputs: 2 });
  assert.deepEqual([out.shape, present.shape], [[2, 8, 768], [2, 2, 12, 28, 64]]);
});

test('MultiHeadAttention: self-attention with past, and a BNSH cross-attention key', () => {
  const q = f32(1, 5, 512);
  const past = f32(1, 8, 10, 64);
  const [out, pk, pv, qk] = run('MultiHeadAttention', [q, f32(1, 5, 512), f32(1, 5, 512), null, null, null, past, past],
    { num_heads: a.int(8) }, { ...ms, outputs: 4 });
  assert.deepEqual([out.shape, pk.shape, pv.shape, qk.shape], [[1, 5, 512], [1, 8, 15, 64], [1, 8, 15, 64], [1, 8, 5, 15]]);
  const [cross, ck] = run('MultiHeadAttention', [q, f32(1, 8, 1500, 64), f32(1, 8, 1500, 64)], { num_heads: a.int(8) }, { ...ms, outputs: 2 });
  assert.deepEqual([cross.shape, ck.shape], [[1, 5, 512], [1, 8, 1500, 64]]);
});

test('RotaryEmbedding keeps shape (com.microsoft and opset 23)', () => {
  assert.deepEqual(run('RotaryEmbedding', [f32(1, 7, 256), t('int64', [1, 7]), f32(64, 32), f32(64, 32)], { num_heads: a.int(4) }, ms)[0].shape, [1, 7, 256]);
  assert.deepEqual(run('RotaryEmbedding', [f32(1, 4, 7, 64), f32(1, 7, 32), f32(1, 7, 32)], {}, { opset: 23 })[0].shape, [1, 4, 7, 64]);
});

test('ONNX Attention (opset 23): 4-D GQA with past, and 3-D with head attributes', () => {
  const [y, pk, pv, qk] = run('Attention', [f32(2, 32, 4, 64), f32(2, 8, 4, 64), f32(2, 8, 4, 32), null, f32(2, 8, 60, 64), f32(2, 8, 60, 32)],
    {}, { opset: 23, outputs: 4 });
  assert.deepEqual([y.shape, pk.shape, pv.shape, qk.shape], [[2, 32, 4, 32], [2, 8, 64, 64], [2, 8, 64, 32], [2, 32, 4, 64]]);
  const [y3] = run('Attention', [f32(1, 10, 512), f32(1, 10, 128), f32(1, 10, 128)], { q_num_heads: a.int(8), kv_num_heads: a.int(2) }, { opset: 23 });
  assert.deepEqual(y3.shape, [1, 10, 512]);
});
