// Reading float weights for quantization, and packing 4-bit codes; element encodings are
// onnx/raw-data.ts's.
import type { Initializer } from '../graph';
import { dtypeBits } from '../graph';
import { decodeValues } from '../onnx/raw-data';

/** Float values of an initializer stored inline (float32, float16, bfloat16); null otherwise. */
export function floatValues(init: Initializer): Float64Array | null {
  const raw = init.raw;
  if (!raw || (init.dtype !== 'float32' && init.dtype !== 'float16' && init.dtype !== 'bfloat16')) return null;
  const bytes = (init.dims.reduce((a, b) => a * b, 1) * dtypeBits(init.dtype)) / 8;
  if (raw.byteLength < bytes) return null;
  return decodeValues(init.dtype, raw.subarray(0, bytes));
}

/** Two 4-bit codes per byte, low nibble first (ONNX int4/uint4 and MatMulNBits packing). */
export function packNibbles(codes: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(codes.length / 2));
  for (let i = 0; i < codes.length; i++) out[i >> 1] |= (codes[i] & 0xf) << ((i & 1) * 4);
  return out;
}
