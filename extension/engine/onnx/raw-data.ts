// Tensor values to and from ONNX raw_data: little-endian bytes, one element after another.
import type { DType } from '../graph';
import { dtypeBits } from '../graph';
import { BFLOAT16, FLOAT16, FLOAT8E4M3FN, decodeFloat, encodeFloat } from './float-formats';

/** Element types with a byte encoding here. */
export type EncodableDType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'float8e4m3fn' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

const ENCODABLE: ReadonlySet<DType> = new Set<EncodableDType>(['float32', 'float64', 'float16', 'bfloat16', 'float8e4m3fn', 'int64', 'int32', 'int8', 'uint8', 'bool']);

export function isEncodable(dtype: DType): dtype is EncodableDType {
  return ENCODABLE.has(dtype);
}

function encodable(dtype: DType, what: string): EncodableDType {
  if (!isEncodable(dtype)) throw new Error(`internal: cannot ${what} ${dtype} values`);
  return dtype;
}

/** Numbers as raw bytes of `dtype`: floats rounded to nearest even, integers truncated toward zero and wrapped. */
export function encodeValues(dtype: DType, values: ArrayLike<number>): Uint8Array {
  const type = encodable(dtype, 'encode');
  const size = dtypeBits(type) / 8;
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const at = i * size;
    switch (type) {
      case 'float32': view.setFloat32(at, v, true); break;
      case 'float64': view.setFloat64(at, v, true); break;
      case 'float16': view.setUint16(at, encodeFloat(FLOAT16, v), true); break;
      case 'bfloat16': view.setUint16(at, encodeFloat(BFLOAT16, v), true); break;
      case 'float8e4m3fn': view.setUint8(at, encodeFloat(FLOAT8E4M3FN, v)); break;
      case 'int64': view.setBigInt64(at, BigInt(Math.trunc(v)), true); break;
      case 'int32': view.setInt32(at, v, true); break;
      case 'int8': view.setInt8(at, v); break;
      case 'uint8': case 'bool': view.setUint8(at, v); break;
    }
  }
  return out;
}

/** Raw bytes of `dtype` as numbers (int64 as the nearest double); trailing bytes short of an element are ignored. */
export function decodeValues(dtype: DType, raw: Uint8Array): Float64Array {
  const type = encodable(dtype, 'decode');
  const size = dtypeBits(type) / 8;
  const n = Math.floor(raw.byteLength / size);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * size;
    switch (type) {
      case 'float32': out[i] = view.getFloat32(at, true); break;
      case 'float64': out[i] = view.getFloat64(at, true); break;
      case 'float16': out[i] = decodeFloat(FLOAT16, view.getUint16(at, true)); break;
      case 'bfloat16': out[i] = decodeFloat(BFLOAT16, view.getUint16(at, true)); break;
      case 'float8e4m3fn': out[i] = decodeFloat(FLOAT8E4M3FN, view.getUint8(at)); break;
      case 'int64': out[i] = Number(view.getBigInt64(at, true)); break;
      case 'int32': out[i] = view.getInt32(at, true); break;
      case 'int8': out[i] = view.getInt8(at); break;
      case 'uint8': case 'bool': out[i] = view.getUint8(at); break;
    }
  }
  return out;
}
