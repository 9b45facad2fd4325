// Reading float weights and writing quantized ones as ONNX raw little-endian bytes.
import type { Initializer } from '../graph';

/** Float values of an initializer stored inline (float32, float16, bfloat16); null otherwise. */
export function floatValues(init: Initializer): Float64Array | null {
  const raw = init.raw;
  if (!raw) return null;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const count = init.dims.reduce((a, b) => a * b, 1);
  const out = new Float64Array(count);
  switch (init.dtype) {
    case 'float32':
      if (raw.byteLength < count * 4) return null;
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case 'float16':
      if (raw.byteLength < count * 2) return null;
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    case 'bfloat16':
      if (raw.byteLength < count * 2) return null;
      for (let i = 0; i < count; i++) out[i] = bf16ToFloat(view.getUint16(i * 2, true));
      return out;
    default:
      return null;
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function bf16ToFloat(b: number): number {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setUint32(0, b << 16, false);
  return buf.getFloat32(0, false);
}

export function float32Bytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return out;
}

export function int8Bytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] & 0xff;
  return out;
}

/** Two 4-bit codes per byte, low nibble first (ONNX int4/uint4 and MatMulNBits packing). */
export function packNibbles(codes: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(codes.length / 2));
  for (let i = 0; i < codes.length; i++) out[i >> 1] |= (codes[i] & 0xf) << ((i & 1) * 4);
  return out;
}

/** float8 e4m3fn (no infinities, max 448), round to nearest even, saturating. */
export function fp8e4m3Byte(v: number): number {
  if (Number.isNaN(v)) return 0x7f;
  const sign = v < 0 || Object.is(v, -0) ? 0x80 : 0;
  let a = Math.abs(v);
  if (a >= 448) return sign | 0x7e;
  if (a < 2 ** -10) return sign; // below half the smallest subnormal (2^-9)
  let e = Math.floor(Math.log2(a));
  if (e < -6) e = -6; // subnormal range: exponent field 0, step 2^-9
  const step = 2 ** (e - 3);
  let m = roundHalfEven(a / step); // 8..15 normal (with the implicit bit), 0..7 subnormal
  if (e > -6 || m >= 8) {
    if (m === 16) { m = 8; e += 1; }
    if (e > 8) return sign | 0x7e;
    const code = ((e + 7) << 3) | (m - 8);
    return sign | Math.min(code, 0x7e);
  }
  return sign | m;
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export function fp8e4m3Bytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = fp8e4m3Byte(values[i]);
  return out;
}

export function int64Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return out;
}
