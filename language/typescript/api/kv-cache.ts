// The KV cache of a decoder: per layer, the keys and values of every position seen so far.
// Prefill caches start empty; decode caches take earlier positions as graph inputs
// `past_key_values.<layer>.key|value` [batch, kv_heads, past_sequence, head_dim]. Each layer's
// updated cache becomes a graph output `present.<layer>.key|value`, produced by a node tagged
// with TRACE_KV, so the memory engine counts it as KV cache.
import type { DType } from '../../../extension/engine/graph';
import { MemlensError } from '../../../extension/engine/errors';
import { addDims } from './dims';
import { concat } from './functional';
import { Tensor } from './tensor';
import { requireGraph, TraceGraph } from './trace-graph';
import { TRACE_KV, TRACE_KV_LAYER } from './trace-keys';
import { scalarDim } from './rotary';

/** Storage type of cached keys/values; int8 and fp8 store quantized values with a scale. */
export type KvDtype = 'float32' | 'float16' | 'bfloat16' | 'int8' | 'fp8';

export interface KVCacheOptions {
  layers: number;
  kvHeads: number;
  headDim: number;
  /** Storage dtype; default: the dtype of the keys and values computed. */
  dtype?: KvDtype;
  /** true: a decode step whose earlier positions arrive as graph inputs. */
  decode?: boolean;
}

export interface KvRecord {
  layer: number;
  kind: 'key' | 'value';
  past: string | null;
  present: string;
  dtype: DType;
}

/** Per-tensor scale of quantized caches (symmetric; int8 covers |x| <= 127/16 ~ 7.9). */
const INT8_SCALE = 1 / 16;

function storageDtype(kv: KvDtype): DType {
  return kv === 'int8' ? 'int8' : kv === 'fp8' ? 'float8e4m3fn' : kv;
}

export class KVCache {
  private readonly g: TraceGraph;
  private readonly pastInputs: { key: Tensor; value: Tensor }[] = [];

  constructor(readonly options: KVCacheOptions) {
    this.g = requireGraph('KVCache');
    if (options.decode) {
      const dtype = storageDtype(options.dtype ?? 'float32');
      if (options.dtype === 'fp8') this.g.needsFloat8 = true;
      for (let i = 0; i < options.layers; i++) {
        const shape = ['batch', options.kvHeads, 'past_sequence', options.headDim];
        this.pastInputs.push({
          key: this.g.addInput(`past_key_values.${i}.key`, dtype, shape),
          value: this.g.addInput(`past_key_values.${i}.value`, dtype, shape),
        });
      }
    }
  }

  static prefill(options: Omit<KVCacheOptions, 'decode'>): KVCache {
    return new KVCache({ ...options, decode: false });
  }

  static decode(options: Omit<KVCacheOptions, 'decode'>): KVCache {
    return new KVCache({ ...options, decode: true });
  }

  /** Number of cached positions before this step, as an int64 scalar; null when the cache starts empty. */
  pastLength(): Tensor | null {
    if (!this.options.decode) return null;
    return scalarDim(this.pastInputs[0].key, 2);
  }

  /** Size symbol of the cached positions (`past_sequence`), 0 in prefill. */
  pastDim(): Tensor['shape'][number] {
    return this.options.decode ? 'past_sequence' : 0;
  }

  /** Earlier keys/values of a layer in the compute dtype, or null in prefill. */
  past(layer: number, compute: DType): { key: Tensor; value: Tensor } | null {
    this.checkLayer(layer);
    if (!this.options.decode) return null;
    const p = this.pastInputs[layer];
    return { key: this.load(p.key, compute), value: this.load(p.value, compute) };
  }

  /** Appends this step's keys/values ([B, H_kv, T, d]); returns all cached ones for attention. */
  update(layer: number, key: Tensor, value: Tensor): [Tensor, Tensor] {
    this.checkShape(key, 'key');
    this.checkShape(value, 'value');
    const past = this.past(layer, key.dtype);
    const k = past ? concat([past.key, key], 2) : key;
    const v = past ? concat([past.value, value], 2) : value;
    this.store(layer, 'key', k);
    this.store(layer, 'value', v);
    return [k, v];
  }

  /** Records presents a fused attention op produced (all positions, compute dtype). */
  storePresent(layer: number, key: Tensor, value: Tensor): void {
    this.checkLayer(layer);
    this.store(layer, 'key', key);
    this.store(layer, 'value', value);
  }

  private checkLayer(layer: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.options.layers) {
      throw new MemlensError(`KV cache: layer ${layer} out of range (cache has ${this.options.layers} layers)`);
    }
  }

  private checkShape(t: Tensor, what: string): void {
    const [, h, , d] = t.shape;
    if (t.rank !== 4 || h !== this.options.kvHeads || d !== this.options.headDim) {
      throw new MemlensError(`KV cache: ${what} must be [batch, ${this.options.kvHeads}, seq, ${this.options.headDim}], got [${t.shape.join(',')}]`);
    }
  }

  private load(stored: Tensor, compute: DType): Tensor {
    const kv = this.options.dtype;
    if (kv === 'int8' || kv === 'fp8') {
      const g = this.g;
      const scale = g.scalar(kv === 'int8' ? INT8_SCALE : 1, 'float32');
      return g.op('DequantizeLinear', [stored, scale], { dtype: 'float32', shape: [...stored.shape] }).to(compute);
    }
    return stored.to(compute);
  }

  private store(layer: number, kind: 'key' | 'value', t: Tensor): void {
    const g = this.g;
    const kv = this.options.dtype;
    let stored: Tensor;
    if (kv === 'int8' || kv === 'fp8') {
      const scale = g.scalar(kv === 'int8' ? INT8_SCALE : 1, 'float32');
      const zero = g.scalar(0, storageDtype(kv));
      stored = g.op('QuantizeLinear', [t.to('float32'), scale, zero], { dtype: storageDtype(kv), shape: [...t.shape] });
    } else stored = t.to(kv ?? t.dtype);
    g.tagOutput(stored, TRACE_KV, kind);
    g.tagProducer(stored, { [TRACE_KV_LAYER]: String(layer) });
    const present = `present.${layer}.${kind}`;
    g.addOutput(stored, present);
    const past = this.options.decode ? this.pastInputs[layer][kind].name : null;
    g.kvRecords.push({ layer, kind, past, present, dtype: stored.dtype });
  }
}

/** The dim of all cached positions after a step of `t` new ones. */
export function totalDim(cache: KVCache | null, t: Tensor['shape'][number]): Tensor['shape'][number] {
  return cache ? addDims(cache.pastDim(), t) : t;
}

/** Positions of the tokens of `ids` [B, T]: past .. past+T-1 (int64 [T]), past = cached positions. */
export function positionIds(ids: Tensor, cache: KVCache | null = null): Tensor {
  const g = ids.graph;
  const t = scalarDim(ids, ids.rank - 1);
  const start = cache?.pastLength() ?? g.scalar(0, 'int64');
  const limit = g.op('Add', [start, t], { dtype: 'int64', shape: [] });
  return g.op('Range', [start, limit, g.scalar(1, 'int64')], { dtype: 'int64', shape: [ids.shape[ids.rank - 1]] });
}
