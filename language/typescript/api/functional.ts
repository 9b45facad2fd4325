// Functional ops (PyTorch's torch.* / F.*) over symbolic tensors.
import { MemlensError } from '../../../extension/engine/errors';
import { addDims, formatShape, normAxis } from './dims';
import { lowestFinite, Tensor } from './tensor';
import { attr } from './trace-graph';

export function matmul(a: Tensor, b: Tensor): Tensor {
  return a.matmul(b);
}

export function add(a: Tensor, b: Tensor | number): Tensor {
  return a.add(b);
}

export function mul(a: Tensor, b: Tensor | number): Tensor {
  return a.mul(b);
}

/** Joins tensors along an axis (torch.cat). */
export function concat(tensors: Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new MemlensError('concat: no tensors given');
  const first = tensors[0];
  const a = normAxis(axis, first.rank, 'concat');
  let size = first.shape[a];
  for (const t of tensors.slice(1)) {
    if (t.rank !== first.rank) throw new MemlensError(`concat: ranks differ: ${formatShape(first.shape)} and ${formatShape(t.shape)}`);
    t.shape.forEach((d, i) => {
      if (i !== a && typeof d === 'number' && typeof first.shape[i] === 'number' && d !== first.shape[i]) {
        throw new MemlensError(`shape mismatch in concat on axis ${axis}: ${formatShape(first.shape)} and ${formatShape(t.shape)}`);
      }
    });
    size = addDims(size, t.shape[a]);
  }
  const shape = [...first.shape];
  shape[a] = size;
  const dtype = first.dtype;
  return first.graph.op('Concat', tensors.map((t) => t.to(dtype)), { dtype, shape }, { axis: attr.int(a) });
}

export const cat = concat;

export function split(x: Tensor, sizes: number | number[], axis = 0): Tensor[] {
  return x.split(sizes, axis);
}

export function chunk(x: Tensor, n: number, axis = 0): Tensor[] {
  return x.chunk(n, axis);
}

export function where(condition: Tensor, a: Tensor, b: Tensor | number): Tensor {
  const other = typeof b === 'number' ? a.graph.scalar(b, a.dtype) : b.to(a.dtype);
  return condition.graph.op('Where', [condition, a, other], { dtype: a.dtype, shape: [...a.shape] });
}

export function softmax(x: Tensor, axis = -1): Tensor {
  return x.softmax(axis);
}

export function relu(x: Tensor): Tensor {
  return x.relu();
}

/** x * sigmoid(x). */
export function silu(x: Tensor): Tensor {
  return x.mul(x.sigmoid());
}

/** GELU: exact erf form, or the tanh approximation GPT-2 uses (`gelu_new`). */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  if (approximate === 'tanh') {
    const inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
    return x.mul(0.5).mul(inner.tanh().add(1));
  }
  return x.mul(0.5).mul(x.mul(Math.SQRT1_2).erf().add(1));
}

/** Dropout: an identity in inference traces; in training an ONNX Dropout with its mask. */
export function dropout(x: Tensor, p: number): Tensor {
  const g = x.graph;
  if (!g.training || p === 0) return x;
  const ratio = g.scalar(p, x.dtype === 'float16' || x.dtype === 'bfloat16' ? x.dtype : 'float32');
  const [y] = g.emit('Dropout', [x, ratio, g.constant('bool', [], [1])], [
    { dtype: x.dtype, shape: [...x.shape] },
    { dtype: 'bool', shape: [...x.shape] },
  ]);
  return y;
}

/** A [T, S] bool tensor, true where key position s may be seen by query t (s <= t + S - T). */
export function causalMask(scores: Tensor): Tensor {
  const g = scores.graph;
  const r = scores.rank;
  const t = g.op('Shape', [scores], { dtype: 'int64', shape: [1] }, { start: attr.int(r - 2), end: attr.int(r - 1) });
  const s = g.op('Shape', [scores], { dtype: 'int64', shape: [1] }, { start: attr.int(r - 1), end: attr.int(r) });
  const dims = [scores.shape[r - 2], scores.shape[r - 1]];
  const both = g.op('Concat', [t, s], { dtype: 'int64', shape: [2] }, { axis: attr.int(0) });
  const ones = g.op('ConstantOfShape', [both], { dtype: 'float32', shape: dims }, { value: attr.tensor('float32', [1], [1]) });
  const offset = g.op('Squeeze', [g.op('Sub', [s, t], { dtype: 'int64', shape: [1] }), g.int64s([0])], { dtype: 'int64', shape: [] });
  const lower = g.op('Trilu', [ones, offset], { dtype: 'float32', shape: dims }, { upper: attr.int(0) });
  return g.op('Cast', [lower], { dtype: 'bool', shape: dims }, { to: attr.int(9) });
}

/**
 * Scaled dot-product attention on [B, H, T, d] queries and [B, H_kv, S, d] keys/values, written
 * out as matmul -> scale -> mask -> softmax -> matmul (the T x S score tensor is materialised).
 * H_kv < H shares each key/value head with H / H_kv query heads (GQA; H_kv = 1 is MQA).
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: { causal?: boolean; scale?: number } = {}): Tensor {
  const heads = q.shape[1];
  const kvHeads = k.shape[1];
  if (typeof heads !== 'number' || typeof kvHeads !== 'number' || heads % kvHeads !== 0) {
    throw new MemlensError(`attention: ${heads} query heads cannot share ${kvHeads} key/value heads`);
  }
  const d = q.shape[3];
  if (typeof d !== 'number') throw new MemlensError(`attention: head dim must be a number, got ${d}`);
  const kk = repeatKv(k, heads / kvHeads);
  const vv = repeatKv(v, heads / kvHeads);
  let scores = q.matmul(kk.transpose(2, 3)).mul(options.scale ?? 1 / Math.sqrt(d));
  if (options.causal ?? true) scores = where(causalMask(scores), scores, lowestFinite(scores.dtype));
  return scores.softmax(-1).matmul(vv);
}

/** [B, H_kv, S, d] -> [B, H_kv * n, S, d], each head repeated n times (as in Llama's repeat_kv). */
export function repeatKv(x: Tensor, n: number): Tensor {
  if (n === 1) return x;
  const [b, h, s, d] = x.shape;
  return x.unsqueeze(2).expand(1, 1, n, 1, 1).reshape(b, typeof h === 'number' ? h * n : -1, s, d);
}
