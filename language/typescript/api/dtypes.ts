// Element types the model API speaks: how binary ops promote them. Byte encodings are the
// engine's (extension/engine/onnx/raw-data.ts).
import type { DType } from '../../../extension/engine/graph';
import { isFloatDType, type FloatDType } from '../../../extension/engine/graph';

const FLOAT_RANK: Record<FloatDType, number> = { bfloat16: 1, float16: 1, float32: 2, float64: 3 };

/** Type promotion for binary float ops: the wider type wins; fp16 with bf16 goes to float32. */
export function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  if (isFloatDType(a) && isFloatDType(b)) {
    if (FLOAT_RANK[a] === FLOAT_RANK[b]) return 'float32';
    return FLOAT_RANK[a] > FLOAT_RANK[b] ? a : b;
  }
  if (isFloatDType(a)) return a;
  if (isFloatDType(b)) return b;
  return a === 'int64' || b === 'int64' ? 'int64' : a;
}
