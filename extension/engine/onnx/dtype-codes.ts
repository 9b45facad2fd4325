// ONNX TensorProto.DataType codes <-> the dtype names of graph.ts. The one table: the decoder, the
// encoder, shape rules (Cast's `to`) and the model API's Cast nodes all read it. No protobuf here,
// so the model API runtime can import it.
import type { DType } from '../graph';

/** TensorProto.DataType enum values, by code. */
export const DATA_TYPES = [
  'undefined', 'float32', 'uint8', 'int8', 'uint16', 'int16', 'int32', 'int64', 'string', 'bool',
  'float16', 'float64', 'uint32', 'uint64', 'complex64', 'complex128', 'bfloat16',
  'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'uint4', 'int4', 'float4e2m1',
] as const satisfies readonly DType[];

/** The dtype of a code; 'undefined' for 0 and for codes newer than this table. */
export function dtypeFromCode(code: number): DType {
  return (DATA_TYPES as readonly DType[])[code] ?? 'undefined';
}

/** The code of a dtype name; null for a name that is not an ONNX element type. */
export function dtypeCode(name: string): number | null {
  const i = (DATA_TYPES as readonly string[]).indexOf(name);
  return i < 0 ? null : i;
}
