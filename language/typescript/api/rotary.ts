// Rotary position embeddings (RoPE, half-split layout as in GPT-NeoX / Llama). The cos/sin
// tables are computed in the graph from the positions, so no table is stored as a weight.
import { MemlensError } from '../../../extension/engine/errors';
import { concat } from './functional';
import { Module } from './module';
import { Tensor } from './tensor';
import { attr } from './trace-graph';

export class RotaryEmbedding extends Module {
  constructor(readonly headDim: number, readonly options: { base?: number } = {}) {
    super();
    if (headDim % 2 !== 0) throw new MemlensError(`rotary embedding: head dim ${headDim} must be even`);
  }

  /** 1 / base^(2i/d) for i < d/2. */
  inverseFrequencies(): number[] {
    const base = this.options.base ?? 10000;
    const half = this.headDim / 2;
    return Array.from({ length: half }, (_, i) => 1 / base ** ((2 * i) / this.headDim));
  }

  /**
   * Angles [count, d/2] for positions start .. start+count-1; `start` and `count` are int64
   * scalars (0-D tensors) or numbers.
   */
  angles(ref: Tensor, start: Tensor | number, count: Tensor, countDim: Tensor['shape'][number]): Tensor {
    const g = ref.graph;
    const s = typeof start === 'number' ? g.scalar(start, 'int64') : start;
    const limit = g.op('Add', [s, count], { dtype: 'int64', shape: [] });
    const pos = g.op('Range', [s, limit, g.scalar(1, 'int64')], { dtype: 'int64', shape: [countDim] });
    const freqs = g.constant('float32', [1, this.headDim / 2], this.inverseFrequencies());
    return pos.to('float32').unsqueeze(1).mul(freqs);
  }

  /** cos and sin tables [T, d] for the T positions of `x` ([..., T, d]) after `past` cached ones. */
  tables(x: Tensor, past: Tensor | null): { cos: Tensor; sin: Tensor } {
    const t = scalarDim(x, x.rank - 2);
    const ang = this.angles(x, past ?? 0, t, x.shape[x.rank - 2]);
    const emb = concat([ang, ang], 1);
    return { cos: emb.unaryOp('Cos').to(x.dtype), sin: emb.unaryOp('Sin').to(x.dtype) };
  }

  /** Rotates x [B, H, T, d]; `past` = number of positions already cached (int64 scalar) or null. */
  forward(x: Tensor, past: Tensor | null = null): Tensor {
    const d = x.shape[x.rank - 1];
    if (d !== this.headDim) throw new MemlensError(`rotary embedding: input head dim ${d} differs from ${this.headDim}`);
    const { cos, sin } = this.tables(x, past);
    return applyRotary(x, cos, sin);
  }
}

/** x * cos + rotate_half(x) * sin, rotate_half(x) = cat(-x2, x1). */
export function applyRotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const d = x.shape[x.rank - 1] as number;
  const [x1, x2] = x.split([d / 2, d / 2], -1);
  const rotated = concat([x2.neg(), x1], -1);
  return x.mul(cos).add(rotated.mul(sin));
}

/** Size of axis `i` as an int64 scalar (0-D) tensor. */
export function scalarDim(x: Tensor, i: number): Tensor {
  const g = x.graph;
  const d = x.shape[i];
  if (typeof d === 'number') return g.scalar(d, 'int64');
  const one = g.op('Shape', [x], { dtype: 'int64', shape: [1] }, { start: attr.int(i), end: attr.int(i + 1) });
  return g.op('Squeeze', [one, g.int64s([0])], { dtype: 'int64', shape: [] });
}
