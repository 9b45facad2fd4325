// Linear and Embedding. Linear keeps PyTorch's [out, in] weight (state-dict names and shapes
// match) and runs as Gemm(transB=1) on the input flattened to 2-D; quantized Linears emit real
// quantized initializers and the ONNX ops that consume them.
import type { DType } from '../../../extension/engine/graph';
import { MemlensError } from '../../../extension/engine/errors';
import { Module, Parameter, sample } from './module';
import { Tensor } from './tensor';
import { attr, TraceGraph } from './trace-graph';
import { encodeValues } from '../../../extension/engine/onnx/raw-data';
import { TRACE_QUANT, TRACE_QUANT_PARAM } from './trace-keys';

export type QuantKind = 'int8' | 'int4' | 'fp8';

export interface QuantSpec {
  kind: QuantKind;
  /** Elements per scale along the input dim; int8 default per output channel, int4 default 32. */
  groupSize?: number;
}

export class Linear extends Module {
  /** Assignable, to tie it to another layer's weight (`lm_head.weight = wte.weight`). */
  weight: Parameter;
  bias: Parameter | null;
  /** Set by `quantize()`. */
  quantization: QuantSpec | null = null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: { bias?: boolean; dtype?: DType; std?: number } = {},
  ) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    const init = options.std !== undefined ? { kind: 'normal' as const, std: options.std } : { kind: 'uniform' as const, bound };
    this.weight = new Parameter([outFeatures, inFeatures], { dtype: options.dtype, init });
    this.bias = options.bias === false ? null : new Parameter([outFeatures], { dtype: options.dtype, init: { kind: 'uniform', bound } });
  }

  forward(x: Tensor): Tensor {
    if (this.quantization) return quantizedLinear(this, this.quantization, x);
    return linear(x.to(this.weight.dtype), this.weight, this.bias);
  }
}

function checkFeatures(x: Tensor, k: number, what: string): void {
  const last = x.shape[x.rank - 1];
  if (typeof last === 'number' && last !== k) {
    throw new MemlensError(`shape mismatch in ${what}: input ${fmt(x.shape)} has ${last} features, weight expects ${k}`);
  }
}

function fmt(shape: readonly unknown[]): string {
  return `[${shape.join(',')}]`;
}

/** y = x W^T + b for x of any rank, W [out, in]. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  const [n, k] = weight.shape as number[];
  checkFeatures(x, k, 'linear');
  return gemmAnyRank(x, n, (x2) => x.graph.op('Gemm', bias ? [x2, weight, bias] : [x2, weight], { dtype: weight.dtype, shape: [x2.shape[0], n] }, { transB: attr.int(1) }));
}

function gemmAnyRank(x: Tensor, n: number, gemm: (x2: Tensor) => Tensor): Tensor {
  if (x.rank === 2) return gemm(x);
  const k = x.shape[x.rank - 1];
  const x2 = x.reshape(-1, k);
  const y2 = gemm(x2);
  return y2.reshapeWith([...x.shape.slice(0, -1), n], [x]);
}

function quantizedLinear(m: Linear, spec: QuantSpec, x: Tensor): Tensor {
  const g = x.graph;
  const w = m.weight;
  const [n, k] = w.dims;
  checkFeatures(x, k, 'linear');
  const compute = w.dtype === 'float16' || w.dtype === 'bfloat16' || w.dtype === 'float64' ? w.dtype : 'float32';
  const xin = x.to(compute);
  const floats = g.rng ? sample(w.init, n * k, g.rng) : null;
  const tag = { [TRACE_QUANT]: spec.groupSize ? `${spec.kind}/g${spec.groupSize}` : spec.kind, [TRACE_QUANT_PARAM]: w.name };
  const bias = m.bias ? m.bias : null;
  let y: Tensor;
  if (spec.kind === 'int4') {
    const block = spec.groupSize ?? 32;
    if (block < 16 || (block & (block - 1)) !== 0) throw new MemlensError(`quantize int4: groupSize must be a power of two >= 16, got ${block}`);
    if (k % block !== 0) throw new MemlensError(`quantize int4: input features ${k} of ${w.name} are not a multiple of groupSize ${block}`);
    const blocks = k / block;
    const q = quantizeBlocks(floats, n, k, block, 7);
    const packed = q ? packNibbles(q.codes, n * k) : undefined;
    const wq = declare(g, `${w.name}_quantized`, 'uint8', [n, blocks, block / 2], packed);
    const sc = declare(g, `${w.name}_scale`, 'float32', [n * blocks], q ? encodeValues('float32', q.scales) : undefined);
    const scales = compute === 'float32' ? sc : sc.to(compute);
    y = gemmAnyRankNBits(xin, n, wq, scales, k, block, tag);
    if (bias) y = y.add(bias);
  } else {
    let wDeq: Tensor;
    if (spec.kind === 'int8' && spec.groupSize) {
      const gs = spec.groupSize;
      if (k % gs !== 0) throw new MemlensError(`quantize int8: input features ${k} of ${w.name} are not a multiple of groupSize ${gs}`);
      const q = quantizeBlocks(floats, n, k, gs, 127);
      const wq = declare(g, `${w.name}_quantized`, 'int8', [n, k / gs, gs], q ? encodeValues('int8', q.codes) : undefined);
      const sc = declare(g, `${w.name}_scale`, 'float32', [n, k / gs, 1], q ? encodeValues('float32', q.scales) : undefined);
      const prod = g.op('Mul', [wq.to('float32'), sc], { dtype: 'float32', shape: [n, k / gs, gs] }, {}, { metadata: tag });
      wDeq = prod.reshape(n, k);
    } else if (spec.kind === 'int8') {
      const q = quantizeBlocks(floats, n, k, k, 127);
      const wq = declare(g, `${w.name}_quantized`, 'int8', [n, k], q ? encodeValues('int8', q.codes) : undefined);
      const sc = declare(g, `${w.name}_scale`, 'float32', [n], q ? encodeValues('float32', q.scales) : undefined);
      wDeq = g.op('DequantizeLinear', [wq, sc], { dtype: 'float32', shape: [n, k] }, { axis: attr.int(0) }, { metadata: tag });
    } else {
      g.needsFloat8 = true;
      let scale = 1;
      if (floats) scale = Math.max(1e-12, ...Array.from(floats, Math.abs)) / 448;
      const raw = floats ? encodeValues('float8e4m3fn', Array.from(floats, (v) => v / scale)) : undefined;
      const wq = declare(g, `${w.name}_quantized`, 'float8e4m3fn', [n, k], raw);
      const sc = declare(g, `${w.name}_scale`, 'float32', [], encodeValues('float32', [scale]));
      wDeq = g.op('DequantizeLinear', [wq, sc], { dtype: 'float32', shape: [n, k] }, {}, { metadata: tag });
    }
    y = linear(xin, wDeq.to(compute), bias ? bias.to(compute) : null);
  }
  return y;
}

function gemmAnyRankNBits(x: Tensor, n: number, wq: Tensor, scales: Tensor, k: number, block: number, tag: Record<string, string>): Tensor {
  const shape = [...x.shape.slice(0, -1), n];
  return x.graph.op('MatMulNBits', [x, wq, scales], { dtype: x.dtype, shape }, {
    K: attr.int(k), N: attr.int(n), bits: attr.int(4), block_size: attr.int(block),
  }, { domain: 'com.microsoft', metadata: tag });
}

/** Declares a quantized-weight initializer (bytes only when materialising). */
function declare(g: TraceGraph, name: string, dtype: DType, dims: number[], raw: Uint8Array | undefined): Tensor {
  const unique = g.uniqueName(name);
  g.addInitializer(unique, dtype, dims, raw);
  g.quantizedState.push(unique);
  return new Tensor(g, unique, dims, dtype);
}

/**
 * Symmetric quantization per block of `block` input elements: scale = max|w| / qmax.
 * For 4 bits the codes are offset by 8 (MatMulNBits' default zero point).
 */
function quantizeBlocks(w: Float64Array | null, n: number, k: number, block: number, qmax: number): { codes: number[]; scales: number[] } | null {
  if (!w) return null;
  const codes = new Array<number>(n * k);
  const scales: number[] = [];
  for (let r = 0; r < n; r++) {
    for (let b = 0; b < k / block; b++) {
      let m = 0;
      for (let j = 0; j < block; j++) m = Math.max(m, Math.abs(w[r * k + b * block + j]));
      const s = m > 0 ? m / qmax : 1;
      scales.push(s);
      for (let j = 0; j < block; j++) {
        const i = r * k + b * block + j;
        const q = Math.max(-qmax - 1, Math.min(qmax, Math.round(w[i] / s)));
        codes[i] = qmax === 7 ? q + 8 : q;
      }
    }
  }
  return { codes, scales };
}

function packNibbles(codes: number[], count: number): Uint8Array {
  const out = new Uint8Array(count / 2);
  for (let i = 0; i < count; i += 2) out[i / 2] = (codes[i] & 0xf) | ((codes[i + 1] & 0xf) << 4);
  return out;
}

export class Embedding extends Module {
  readonly weight: Parameter;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: { dtype?: DType; std?: number } = {}) {
    super();
    this.weight = new Parameter([numEmbeddings, embeddingDim], { dtype: options.dtype, init: { kind: 'normal', std: options.std ?? 1 } });
  }

  forward(ids: Tensor): Tensor {
    if (ids.dtype !== 'int64' && ids.dtype !== 'int32') throw new MemlensError(`embedding: indices must be int64 or int32, got ${ids.dtype}`);
    return this.weight.gather(ids, 0);
  }
}
