// Fused attention operators: com.microsoft Attention, MultiHeadAttention, GroupQueryAttention,
// DecoderMaskedMultiHeadAttention, RotaryEmbedding, and ONNX Attention (opset 23). Their present
// key/value outputs are the KV cache, so these shapes follow ONNX Runtime's kernels exactly.
import type { Dim } from '../../graph';
import type { RuleTable, ShapeRule } from '../types';
import { addDim, divDim, mulDim } from '../dim-math';
import { like, scalarOf, typed } from './util';

const at = (s: Dim[] | null | undefined, i: number): Dim => s?.[i] ?? null;

/**
 * com.microsoft Attention: input [B, S, in], weights [in, Dq + Dk + Dv], past [2, B, N, P, H].
 * output [B, S, Dv]; present [2, B, N, P + S, H] (the past's own length when the buffer is shared).
 */
const attention: ShapeRule = (_node, inputs, ctx) => {
  const [x, w, , , past] = inputs;
  if (!x) return [null, null];
  const n = ctx.int('num_heads', 1);
  const qkv = ctx.ints('qkv_hidden_sizes');
  const total = at(w?.shape, 1);
  const dk = qkv ? qkv[1] : divDim(total, 3);
  const dv = qkv ? qkv[2] : divDim(total, 3);
  const [b, s] = [at(x.shape, 0), at(x.shape, 1)];
  const pastLen: Dim = past?.shape ? past.shape[3] : 0;
  const presentLen = ctx.int('past_present_share_buffer', 0) === 1 && past?.shape ? past.shape[3] : addDim(pastLen, s);
  return [typed(x.dtype, [b, s, dv]), typed(x.dtype, [2, b, n, presentLen, divDim(dk, n)])];
};

/**
 * com.microsoft MultiHeadAttention. query [B, S, D] or packed QKV [B, S, N, 3, H]; key [B, L, D],
 * packed KV [B, L, N, 2, H] or BNSH [B, N, L, H]; past_key [B, N, P, H].
 * Outputs: [B, S, Dv], present_key [B, N, P + L, H], present_value [B, N, P + L, Hv], qk [B, N, S, P + L].
 */
const multiHeadAttention: ShapeRule = (_node, inputs, ctx) => {
  const [q, k, v] = inputs;
  const pastKey = inputs[6];
  if (!q?.shape) return [q ? typed(q.dtype, null) : null, null, null, null];
  const n = ctx.int('num_heads', 1);
  const [b, s] = [q.shape[0], q.shape[1]];
  let kvLen: Dim;
  let h: Dim;
  let hv: Dim;
  let bnshKey = false;
  if (q.shape.length === 5) {
    [kvLen, h, hv] = [s, q.shape[4], q.shape[4]];
  } else if (k?.shape?.length === 5) {
    [kvLen, h, hv] = [k.shape[1], k.shape[4], k.shape[4]];
  } else if (k?.shape?.length === 4) {
    bnshKey = true;
    [kvLen, h] = [k.shape[2], k.shape[3]];
    hv = at(v?.shape, 3);
  } else {
    kvLen = at(k?.shape, 1);
    h = divDim(q.shape[2], n);
    hv = v?.shape?.length === 4 ? v.shape[3] : divDim(at(v?.shape, 2), n);
  }
  // A BNSH key is the cross-attention cache itself: nothing is appended to it.
  const total = bnshKey ? kvLen : addDim(pastKey?.shape ? pastKey.shape[2] : 0, kvLen);
  const dtype = q.dtype;
  return [
    typed(dtype, [b, s, mulDim(n, hv)]),
    typed(dtype, [b, n, total, h]),
    typed(dtype, [b, n, total, hv]),
    typed(dtype, [b, n, s, total]),
  ];
};

/**
 * com.microsoft GroupQueryAttention. query [B, S, D] (or packed [B, S, (N + 2 N_kv) H]),
 * past_key [B, N_kv, P, H], total_sequence_length T (scalar input 6).
 * Output [B, S, N H]; present key/value [B, N_kv, max(T, P), H] (ONNX Runtime's CheckInputs);
 * T defaults to P + S when its value is not a folded constant.
 */
const groupQueryAttention: ShapeRule = (_node, inputs, ctx) => {
  const [q, k, , pastKey] = inputs;
  if (!q?.shape) return [q ? typed(q.dtype, null) : null, null, null];
  const n = ctx.int('num_heads', 1);
  const nkv = ctx.int('kv_num_heads', 1);
  const [b, s, d] = q.shape;
  const h = k ? divDim(d, n) : divDim(d, n + 2 * nkv);
  const past: Dim = pastKey?.shape ? pastKey.shape[2] : 0;
  const totalInput = scalarOf(inputs[6]);
  const total = totalInput !== undefined ? totalInput : addDim(past, s);
  const present = typeof total === 'number' && typeof past === 'number' ? Math.max(total, past) : total;
  const kv = typed(q.dtype, [b, nkv, present, h]);
  return [typed(q.dtype, [b, s, mulDim(n, h)]), kv, kv];
};

/**
 * com.microsoft DecoderMaskedMultiHeadAttention: the past buffers are shared with the present
 * ones (max sequence length), so present shapes are the past shapes.
 */
const decoderMaskedMHA: ShapeRule = (_node, inputs, ctx) => {
  const [q] = inputs;
  if (!q) return [null, null, null];
  const n = ctx.int('num_heads', 1);
  const pastKey = inputs[5];
  const pastValue = inputs[6];
  const hv = at(pastValue?.shape, 3);
  const dv = hv !== null ? mulDim(n, hv) : at(q.shape, 2);
  return [typed(q.dtype, [at(q.shape, 0), at(q.shape, 1), dv]), like(pastKey), like(pastValue)];
};

/**
 * ONNX Attention (opset 23). Q [B, Hq, S, hd] or [B, S, Hq hd]; K/V [B, Hkv, L, hd] or 3-D with
 * kv_num_heads. Y follows Q's layout; present [B, Hkv, P + L, hd]; qk [B, Hq, S, P + L].
 */
const onnxAttention: ShapeRule = (_node, inputs, ctx) => {
  const [q, k, v, , pastKey] = inputs;
  if (!q?.shape) return [q ? typed(q.dtype, null) : null, null, null, null];
  const four = q.shape.length === 4;
  const hq: Dim = four ? q.shape[1] : ctx.int('q_num_heads', 1);
  const hkv: Dim = k?.shape?.length === 4 ? k.shape[1] : ctx.int('kv_num_heads', 1);
  const b = q.shape[0];
  const s = four ? q.shape[2] : q.shape[1];
  const hd = four ? q.shape[3] : divDim(q.shape[2], hq);
  const kvLen = k?.shape ? (k.shape.length === 4 ? k.shape[2] : k.shape[1]) : null;
  const vhd = v?.shape ? (v.shape.length === 4 ? v.shape[3] : divDim(v.shape[2], hkv)) : null;
  const total = addDim(pastKey?.shape ? pastKey.shape[2] : 0, kvLen);
  const y = four ? [b, hq, s, vhd] : [b, s, mulDim(hq, vhd)];
  return [
    typed(q.dtype, y),
    typed(q.dtype, [b, hkv, total, hd]),
    typed(q.dtype, [b, hkv, total, vhd]),
    typed(q.dtype, [b, hq, s, total]),
  ];
};

const rotary: ShapeRule = (_node, [x]) => [like(x)];

export const attentionRules: RuleTable = {
  '': {
    Attention: onnxAttention,
    RotaryEmbedding: rotary,
  },
  'com.microsoft': {
    Attention: attention,
    MultiHeadAttention: multiHeadAttention,
    GroupQueryAttention: groupQueryAttention,
    DecoderMaskedMultiHeadAttention: decoderMaskedMHA,
    RotaryEmbedding: rotary,
  },
};
