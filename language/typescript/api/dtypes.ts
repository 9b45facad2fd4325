// Element types the model API speaks, and the byte encodings it writes for constants and
// materialised weights (little-endian, as ONNX raw_data).
import type { DType } from '../../../extension/engine/graph';

export type FloatDType = 'float32' | 'float16' | 'bfloat16' | 'float64';

export function isFloat(d: DType): d is FloatDType {
  return d === 'float32' || d === 'float16' || d === 'bfloat16' || d === 'float64';
}

const FLOAT_RANK: Record<FloatDType, number> = { bfloat16: 1, float16: 1, float32: 2, float64: 3 };

/** Type promotion for binary float ops: the wider type wins; fp16 with bf16 goes to float32. */
export function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  if (isFloat(a) && isFloat(b)) {
    if (FLOAT_RANK[a] === FLOAT_RANK[b]) return 'float32';
    return FLOAT_RANK[a] > FLOAT_RANK[b] ? a : b;
  }
  if (isFloat(a)) return a;
  if (isFloat(b)) return b;
  return a === 'int64' || b === 'int64' ? 'int64' : a;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half from a double, round to nearest even. */
export function toHalfBits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function toBfloat16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const rounding = 0x7fff + ((x >>> 16) & 1);
  return ((x + rounding) >>> 16) & 0xffff;
}

/** float8 e4m3fn (no infinities, max 448), round to nearest even by search over the 256 codes. */
export function toFloat8E4M3Bits(v: number): number {
  if (Number.isNaN(v)) return 0x7f;
  const sign = v < 0 ? 0x80 : 0;
  const a = Math.min(Math.abs(v), 448);
  let best = 0;
  let bestErr = Infinity;
  for (let code = 0; code < 0x7f; code++) {
    const err = Math.abs(fromFloat8E4M3Bits(code) - a);
    if (err < bestErr || (err === bestErr && (code & 1) === 0)) {
      best = code;
      bestErr = err;
    }
  }
  return sign | best;
}

export function fromFloat8E4M3Bits(code: number): number {
  const sign = code & 0x80 ? -1 : 1;
  const exp = (code >>> 3) & 0xf;
  const mant = code & 0x7;
  if (exp === 0xf && mant === 0x7) return NaN;
  if (exp === 0) return sign * (mant / 8) * 2 ** -6;
  return sign * (1 + mant / 8) * 2 ** (exp - 7);
}

export function bytesPerElement(d: DType): number {
  switch (d) {
    case 'float64': case 'int64': return 8;
    case 'float32': case 'int32': return 4;
    case 'float16': case 'bfloat16': return 2;
    case 'int8': case 'uint8': case 'bool': case 'float8e4m3fn': return 1;
    default: throw new Error(`internal: no byte encoding for ${d}`);
  }
}

/** Encodes numbers as raw little-endian bytes of the given type. */
export function encodeValues(dtype: DType, values: ArrayLike<number>): Uint8Array {
  const n = values.length;
  const size = bytesPerElement(dtype);
  const buf = new Uint8Array(n * size);
  const view = new DataView(buf.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    switch (dtype) {
      case 'float32': view.setFloat32(i * 4, v, true); break;
      case 'float64': view.setFloat64(i * 8, v, true); break;
      case 'float16': view.setUint16(i * 2, toHalfBits(v), true); break;
      case 'bfloat16': view.setUint16(i * 2, toBfloat16Bits(v), true); break;
      case 'int64': view.setBigInt64(i * 8, BigInt(Math.trunc(v)), true); break;
      case 'int32': view.setInt32(i * 4, v, true); break;
      case 'int8': view.setInt8(i, v); break;
      case 'uint8': case 'bool': view.setUint8(i, v); break;
      case 'float8e4m3fn': view.setUint8(i, toFloat8E4M3Bits(v)); break;
      default: throw new Error(`internal: cannot encode ${dtype}`);
    }
  }
  return buf;
}

/** Decodes raw little-endian bytes into numbers (float-ish types widened to double). */
export function decodeValues(dtype: DType, raw: Uint8Array): Float64Array {
  const size = bytesPerElement(dtype);
  const n = raw.byteLength / size;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case 'float32': out[i] = view.getFloat32(i * 4, true); break;
      case 'float64': out[i] = view.getFloat64(i * 8, true); break;
      case 'float16': out[i] = fromHalfBits(view.getUint16(i * 2, true)); break;
      case 'bfloat16': {
        u32[0] = view.getUint16(i * 2, true) << 16;
        out[i] = f32[0];
        break;
      }
      case 'int64': out[i] = Number(view.getBigInt64(i * 8, true)); break;
      case 'int32': out[i] = view.getInt32(i * 4, true); break;
      case 'int8': out[i] = view.getInt8(i); break;
      case 'uint8': case 'bool': out[i] = view.getUint8(i); break;
      case 'float8e4m3fn': out[i] = fromFloat8E4M3Bits(view.getUint8(i)); break;
      default: throw new Error(`internal: cannot decode ${dtype}`);
    }
  }
  return out;
}

/** Deterministic PRNG (mulberry32) so materialised weights are reproducible from a seed. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Standard normal by Box-Muller. */
  normal(): number {
    const u = Math.max(this.uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }
}
