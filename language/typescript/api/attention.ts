// Causal multi-head attention with grouped key/value heads (MHA: kvHeads = heads, GQA: fewer,
// MQA: one), on projected q [B, T, H*d] and k, v [B, T, H_kv*d], in two forms:
// - explicit: reshape to heads, RoPE, cache update, matmul/softmax/matmul (T x S scores exist);
// - fused: one com.microsoft GroupQueryAttention node (RoPE and cache inside, no score tensor).
import type { Dim } from '../../../extension/engine/graph';
import { MemlensError } from '../../../extension/engine/errors';
import { scaledDotProductAttention } from './functional';
import { KVCache, totalDim } from './kv-cache';
import { RotaryEmbedding, scalarDim } from './rotary';
import { Tensor } from './tensor';
import { attr } from './trace-graph';

export type AttentionImpl = 'explicit' | 'fused';

export interface AttentionOptions {
  heads: number;
  /** Key/value heads; default `heads` (MHA). */
  kvHeads?: number;
  impl?: AttentionImpl;
  rotary?: RotaryEmbedding | null;
  cache?: KVCache | null;
  /** Decoder layer index, needed with a cache. */
  layer?: number;
  /** Default 1/sqrt(head_dim). */
  scale?: number;
}

export function causalAttention(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions): Tensor {
  const heads = o.heads;
  const kvHeads = o.kvHeads ?? heads;
  const width = q.shape[2];
  if (q.rank !== 3 || typeof width !== 'number' || width % heads !== 0) {
    throw new MemlensError(`attention: query must be [batch, seq, heads*head_dim] with ${heads} heads, got [${q.shape.join(',')}]`);
  }
  const d = width / heads;
  if (k.shape[2] !== kvHeads * d || v.shape[2] !== kvHeads * d) {
    throw new MemlensError(`attention: keys/values must have ${kvHeads}*${d} features, got [${k.shape.join(',')}] and [${v.shape.join(',')}]`);
  }
  if (heads % kvHeads !== 0) throw new MemlensError(`attention: ${heads} heads are not a multiple of ${kvHeads} key/value heads`);
  if (o.cache && o.layer === undefined) throw new MemlensError('attention: a KV cache needs the layer index (`layer`)');
  return (o.impl ?? 'explicit') === 'fused' ? fused(q, k, v, heads, kvHeads, d, o) : explicit(q, k, v, heads, kvHeads, d, o);
}

function explicit(q: Tensor, k: Tensor, v: Tensor, heads: number, kvHeads: number, d: number, o: AttentionOptions): Tensor {
  const [b, t] = q.shape;
  let qh = q.view(b, t, heads, d).transpose(1, 2);
  let kh = k.view(b, t, kvHeads, d).transpose(1, 2);
  let vh = v.view(b, t, kvHeads, d).transpose(1, 2);
  if (o.rotary) {
    const past = o.cache ? o.cache.pastLength() : null;
    qh = o.rotary.forward(qh, past);
    kh = o.rotary.forward(kh, past);
  }
  if (o.cache) [kh, vh] = o.cache.update(o.layer as number, kh, vh);
  const y = scaledDotProductAttention(qh, kh, vh, { causal: true, scale: o.scale });
  return y.transpose(1, 2).reshape(b, t, heads * d);
}

function fused(q: Tensor, k: Tensor, v: Tensor, heads: number, kvHeads: number, d: number, o: AttentionOptions): Tensor {
  const g = q.graph;
  const cache = o.cache ?? null;
  const past = cache ? cache.past(o.layer as number, q.dtype) : null;
  const t = scalarDim(q, 1);
  const pastLen = cache?.pastLength() ?? g.scalar(0, 'int64');
  const total = g.op('Add', [pastLen, t], { dtype: 'int64', shape: [] });
  const totalDimension: Dim = totalDim(cache, q.shape[1]);
  // seqlens_k: per batch row, the index of its last key (total - 1); all rows are full here.
  const lastIndex = g.op('Sub', [total, g.scalar(1, 'int64')], { dtype: 'int64', shape: [] });
  const batch = g.op('Shape', [q], { dtype: 'int64', shape: [1] }, { start: attr.int(0), end: attr.int(1) });
  const seqlens = g.op('Expand', [lastIndex, batch], { dtype: 'int64', shape: [q.shape[0]] }).to('int32');
  const inputs: (Tensor | null)[] = [q, k, v, past?.key ?? null, past?.value ?? null, seqlens, total.to('int32')];
  const attributes: Record<string, ReturnType<typeof attr.int>> = {
    num_heads: attr.int(heads),
    kv_num_heads: attr.int(kvHeads),
  };
  if (o.scale !== undefined) attributes.scale = attr.float(o.scale);
  if (o.rotary) {
    if (o.rotary.headDim !== d) throw new MemlensError(`attention: rotary head dim ${o.rotary.headDim} differs from ${d}`);
    const ang = o.rotary.angles(q, 0, total, totalDimension);
    inputs.push(ang.unaryOp('Cos').to(q.dtype), ang.unaryOp('Sin').to(q.dtype));
    attributes.do_rotary = attr.int(1);
    attributes.rotary_interleaved = attr.int(0);
  }
  const presentShape = [q.shape[0], kvHeads, totalDimension, d];
  const [y, presentK, presentV] = g.emit('GroupQueryAttention', inputs, [
    { dtype: q.dtype, shape: [...q.shape] },
    { dtype: q.dtype, shape: presentShape },
    { dtype: q.dtype, shape: presentShape },
  ], attributes, { domain: 'com.microsoft' });
  if (cache) cache.storePresent(o.layer as number, presentK, presentV);
  return y;
}
