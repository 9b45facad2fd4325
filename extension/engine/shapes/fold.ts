// Constant folding of small tensors: the values of shape computations (Shape->Gather->Concat)
// so that the targets of Reshape, Expand, Slice, Range resolve to numbers.
import type { DType, Dim } from '../graph';
import type { InferredTensor } from './types';
import { isKnownShape } from './dim-math';

/** Tensors with more elements than this carry no folded values (they are data, not shapes). */
export const MAX_FOLDED_ELEMENTS = 1024;

export function count(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A tensor of this type, carrying values only when small enough to fold. */
export function tensor(dtype: DType, shape: Dim[] | null, value?: number[]): InferredTensor {
  if (value !== undefined && value.length <= MAX_FOLDED_ELEMENTS && isKnownShape(shape) && count(shape) === value.length) {
    return { dtype, shape, value };
  }
  return { dtype, shape };
}

/** Values and numeric shape of an input, when both are known. */
export function known(t: InferredTensor | undefined): { value: number[]; shape: number[] } | undefined {
  if (!t || t.value === undefined || !isKnownShape(t.shape)) return undefined;
  return { value: t.value, shape: t.shape };
}

export function isIntegerDType(d: DType): boolean {
  switch (d) {
    case 'int8': case 'uint8': case 'int16': case 'uint16': case 'int32': case 'uint32':
    case 'int64': case 'uint64': case 'int4': case 'uint4': case 'bool':
      return true;
    default:
      return false;
  }
}

/** One value converted the way Cast converts it (floats truncate towards zero into ints). */
export function castValue(v: number, to: DType): number {
  if (to === 'bool') return v !== 0 ? 1 : 0;
  if (isIntegerDType(to)) return Math.trunc(v);
  if (to === 'float32' || to === 'float16' || to === 'bfloat16') return Math.fround(v);
  return v;
}

function stridesFor(shape: number[], outRank: number, outShape: number[]): number[] {
  const strides = new Array<number>(outRank).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const o = i + outRank - shape.length;
    strides[o] = shape[i] === 1 && outShape[o] !== 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

/** Element-wise map with numpy broadcasting over folded inputs; undefined unless all are known. */
export function mapBroadcast(
  inputs: (InferredTensor | undefined)[],
  outShape: Dim[] | null,
  fn: (args: number[]) => number,
): number[] | undefined {
  if (!isKnownShape(outShape)) return undefined;
  const n = count(outShape);
  if (n > MAX_FOLDED_ELEMENTS) return undefined;
  const ks = inputs.map(known);
  if (ks.some((k) => k === undefined)) return undefined;
  const rank = outShape.length;
  const strides = ks.map((k) => stridesFor(k!.shape, rank, outShape));
  const idx = new Array<number>(rank).fill(0);
  const args = new Array<number>(ks.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < ks.length; j++) {
      let off = 0;
      for (let a = 0; a < rank; a++) off += idx[a] * strides[j][a];
      args[j] = ks[j]!.value[off];
    }
    out[i] = fn(args);
    for (let a = rank - 1; a >= 0; a--) {
      if (++idx[a] < outShape[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

/** Row-major strides of a shape. */
export function rowStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Values picked along each axis by a list of indices per axis (Slice, Gather on one axis). */
export function pickValues(value: number[], shape: number[], picks: number[][]): number[] {
  const strides = rowStrides(shape);
  const outShape = picks.map((p) => p.length);
  const n = count(outShape);
  const out = new Array<number>(n);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (let a = 0; a < shape.length; a++) off += picks[a][idx[a]] * strides[a];
    out[i] = value[off];
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++idx[a] < outShape[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

/** Values of a folded tensor with its axes permuted (Transpose): output axis i is input axis perm[i]. */
export function transposeValues(value: number[], shape: number[], perm: number[]): number[] {
  const inStrides = rowStrides(shape);
  const outShape = perm.map((p) => shape[p]);
  const n = value.length;
  const out = new Array<number>(n);
  const idx = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (let a = 0; a < outShape.length; a++) off += idx[a] * inStrides[perm[a]];
    out[i] = value[off];
    for (let a = outShape.length - 1; a >= 0; a--) {
      if (++idx[a] < outShape[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

export function range(n: number): number[] {
  const r = new Array<number>(n);
  for (let i = 0; i < n; i++) r[i] = i;
  return r;
}
