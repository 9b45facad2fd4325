// The narrow float formats ONNX stores (float16, bfloat16, float8 e4m3fn) to and from numbers.
// One rule serves every format: a code is (binade - lowest binade) * 2^mantissaBits + significand,
// where the significand is the value over its binade's step, rounded half to even. Subnormals are
// the lowest binade's step without the implicit bit, so the same sum covers them, and a carry out
// of the significand lands on the next binade's code by itself. Rounding is from the exact value of
// the number (a double), as numpy's float16 does, not through float32 first.

export interface FloatFormat {
  readonly name: string;
  readonly mantissaBits: number;
  /** Exponent of the lowest normal binade (1 - bias). */
  readonly minExponent: number;
  /** Largest finite code without its sign. */
  readonly maxFiniteCode: number;
  /** Where a finite value too large goes: infinity (IEEE) or the largest finite value (ONNX Cast's saturate=1 default for e4m3fn). */
  readonly overflow: 'infinity' | 'saturate';
  readonly signBit: number;
  readonly nanCode: number;
  /** Magnitude code of infinity; null for formats without one. */
  readonly infinityCode: number | null;
  /** Whether a magnitude code (sign removed) is NaN. */
  isNanCode(magnitude: number): boolean;
}

export const FLOAT16: FloatFormat = {
  name: 'float16', mantissaBits: 10, minExponent: -14, maxFiniteCode: 0x7bff, overflow: 'infinity',
  signBit: 0x8000, nanCode: 0x7e00, infinityCode: 0x7c00, isNanCode: (m) => m > 0x7c00,
};

export const BFLOAT16: FloatFormat = {
  name: 'bfloat16', mantissaBits: 7, minExponent: -126, maxFiniteCode: 0x7f7f, overflow: 'infinity',
  signBit: 0x8000, nanCode: 0x7fc0, infinityCode: 0x7f80, isNanCode: (m) => m > 0x7f80,
};

/** 4 exponent bits, 3 mantissa bits, no infinities; only S.1111.111 is NaN (max 448). */
export const FLOAT8E4M3FN: FloatFormat = {
  name: 'float8e4m3fn', mantissaBits: 3, minExponent: -6, maxFiniteCode: 0x7e, overflow: 'saturate',
  signBit: 0x80, nanCode: 0x7f, infinityCode: null, isNanCode: (m) => m === 0x7f,
};

// Exact powers of two by repeated doubling and halving (2^-1074 .. 2^1023), so no step depends on
// how Math.pow rounds.
const POW2_OFFSET = 1074;
const POW2 = new Float64Array(POW2_OFFSET + 1024);
POW2[POW2_OFFSET] = 1;
for (let e = 1; e <= 1023; e++) POW2[POW2_OFFSET + e] = POW2[POW2_OFFSET + e - 1] * 2;
for (let e = -1; e >= -1074; e--) POW2[POW2_OFFSET + e] = POW2[POW2_OFFSET + e + 1] / 2;
const pow2 = (e: number): number => POW2[POW2_OFFSET + e];

const bits = new DataView(new ArrayBuffer(8));

/**
 * floor(log2(a)) of a positive finite double, read from its exponent field. Subnormal doubles read
 * as -1023: far below every format's lowest binade, which is all the caller needs.
 */
function binadeOf(a: number): number {
  bits.setFloat64(0, a);
  return ((bits.getUint32(0) >>> 20) & 0x7ff) - 1023;
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The code of `value` in `format`, rounded to nearest, ties to even. NaN gives the format's quiet NaN. */
export function encodeFloat(format: FloatFormat, value: number): number {
  if (Number.isNaN(value)) return format.nanCode;
  const sign = value < 0 || Object.is(value, -0) ? format.signBit : 0;
  const a = Math.abs(value);
  if (a === 0) return sign;
  const m = format.mantissaBits;
  const overflowCode = format.overflow === 'saturate' || format.infinityCode === null ? format.maxFiniteCode : format.infinityCode;
  if (a === Infinity) return sign | overflowCode;
  const binade = Math.max(binadeOf(a), format.minExponent);
  // Above the largest binade the code is past maxFiniteCode anyway; the clamp keeps the scaling in range.
  const maxBinade = format.minExponent + (format.maxFiniteCode >> m) - 1;
  if (binade > maxBinade + 1) return sign | overflowCode;
  const significand = roundHalfEven(a * pow2(m - binade));
  const code = (binade - format.minExponent) * 2 ** m + significand;
  return sign | (code > format.maxFiniteCode ? overflowCode : code);
}

/** The exact value of a code in `format`. */
export function decodeFloat(format: FloatFormat, code: number): number {
  const m = format.mantissaBits;
  const magnitude = code & (format.signBit - 1);
  const sign = code & format.signBit ? -1 : 1;
  if (format.isNanCode(magnitude)) return NaN;
  if (magnitude === format.infinityCode) return sign * Infinity;
  const field = magnitude >> m;
  const mantissa = magnitude & ((1 << m) - 1);
  if (field === 0) return sign * mantissa * pow2(format.minExponent - m);
  return sign * (mantissa + (1 << m)) * pow2(format.minExponent + field - 1 - m);
}
