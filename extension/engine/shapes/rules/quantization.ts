// Quantized operators: (De)QuantizeLinear, DynamicQuantizeLinear, integer and n-bit matmuls.
import type { DType } from '../../graph';
import type { RuleTable, ShapeRule } from '../types';
import { broadcast } from '../dim-math';
import { matmulShape } from './matmul';
import { dtypeFromCode } from '../../onnx/dtype-codes';
import { typed } from './util';

/** QuantizeLinear: the zero point's dtype, else output_dtype (opset 21), else uint8. */
const quantizeLinear: ShapeRule = (_node, [x, _scale, zeroPoint], ctx) => {
  if (!x) return [null];
  const attr = ctx.int('output_dtype', 0);
  const dtype: DType = zeroPoint?.dtype ?? (attr ? dtypeFromCode(attr) : 'uint8');
  return [typed(dtype, x.shape)];
};

/** DequantizeLinear: the scale's dtype (output_dtype from opset 23 when set). */
const dequantizeLinear: ShapeRule = (_node, [x, scale], ctx) => {
  if (!x) return [null];
  const attr = ctx.int('output_dtype', 0);
  return [typed(attr ? dtypeFromCode(attr) : scale?.dtype ?? 'float32', x.shape)];
};

/** DynamicQuantizeLinear: y (uint8, x's shape), y_scale (float32 scalar), y_zero_point (uint8 scalar). */
const dynamicQuantizeLinear: ShapeRule = (_node, [x]) => {
  if (!x) return [null, typed('float32', []), typed('uint8', [])];
  return [typed('uint8', x.shape), typed('float32', []), typed('uint8', [])];
};

const matmulInteger: ShapeRule = (_node, [a, b]) => (a && b ? [typed('int32', matmulShape(a.shape, b.shape))] : [null]);

/** QLinearMatMul: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point. */
const qlinearMatMul: ShapeRule = (_node, inputs) => {
  const [a, b] = [inputs[0], inputs[3]];
  if (!a || !b) return [null];
  return [typed(inputs[7]?.dtype ?? a.dtype, matmulShape(a.shape, b.shape))];
};

/**
 * com.microsoft MatMulNBits: A [..., K] times a K x N matrix packed as B [N, ceil(K / block_size),
 * block_size * bits / 8] -> [..., N] of A's dtype.
 */
const matMulNBits: ShapeRule = (_node, [a], ctx) => {
  if (!a) return [null];
  const n = ctx.int('N', 0);
  const k = ctx.int('K', 0);
  if (!a.shape || n <= 0) return [typed(a.dtype, null)];
  return [typed(a.dtype, matmulShape(a.shape, [k > 0 ? k : a.shape[a.shape.length - 1], n]))];
};

/** com.microsoft MatMulIntegerToFloat: A, B, a_scale, ... -> float of a_scale's dtype. */
const matMulIntegerToFloat: ShapeRule = (_node, [a, b, aScale]) => {
  if (!a || !b) return [null];
  return [typed(aScale?.dtype ?? 'float32', matmulShape(a.shape, b.shape))];
};

/** com.microsoft DynamicQuantizeMatMul: float A, int8 B, b_scale -> float of A's dtype. */
const dynamicQuantizeMatMul: ShapeRule = (_node, [a, b]) => (a && b ? [typed(a.dtype, matmulShape(a.shape, b.shape))] : [null]);

/** com.microsoft QLinearAdd / QLinearMul: A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp. */
const qlinearBinary: ShapeRule = (_node, inputs) => {
  const [a, b] = [inputs[0], inputs[3]];
  if (!a || !b || !a.shape || !b.shape) return [a ? typed(a.dtype, null) : null];
  return [typed(inputs[7]?.dtype ?? a.dtype, broadcast(a.shape, b.shape))];
};

/** com.microsoft GatherBlockQuantized: data [..] packed, indices -> gathered rows, dtype of scales. */
const gatherBlockQuantized: ShapeRule = (_node, [data, indices, scales], ctx) => {
  if (!data?.shape || !indices?.shape) return [scales ? typed(scales.dtype, null) : null];
  const axis = ctx.int('gather_axis', 0);
  const a = axis < 0 ? axis + data.shape.length : axis;
  const bits = ctx.int('bits', 4);
  const last = data.shape.length - 1;
  // uint8 data packs 8 / bits values per byte along the last axis; int4/uint4 data is unpacked.
  const unpack = data.dtype === 'uint8' ? 8 / bits : 1;
  const dims = data.shape.map((d, i) => (i === last && typeof d === 'number' ? d * unpack : d));
  return [typed(scales?.dtype ?? 'float32', [...dims.slice(0, a), ...indices.shape, ...dims.slice(a + 1)])];
};

/**
 * com.microsoft QGemm (contrib_ops/cpu/quantization/qgemm.cc): A, a_scale, a_zp, B, b_scale, b_zp,
 * C, y_scale, y_zp -> [M, N], quantized to y_zp's dtype when y_scale is given, else float.
 */
const qgemm: ShapeRule = (_node, inputs, ctx) => {
  const [a, b] = [inputs[0], inputs[3]];
  if (!a || !b) return [null];
  const dtype: DType = inputs[7] ? (inputs[8]?.dtype ?? 'uint8') : 'float32';
  if (!a.shape || !b.shape || a.shape.length !== 2 || b.shape.length !== 2) return [typed(dtype, [null, null])];
  const m = ctx.int('transA', 0) ? a.shape[1] : a.shape[0];
  const n = ctx.int('transB', 0) ? b.shape[0] : b.shape[1];
  return [typed(dtype, [m, n])];
};

/** com.microsoft QLinearGlobalAveragePool: X, x_scale, x_zp, y_scale, y_zp; NHWC with channels_last. */
const qlinearGlobalAveragePool: ShapeRule = (_node, [x], ctx) => {
  if (!x?.shape) return [x ? typed(x.dtype, null) : null];
  const last = ctx.int('channels_last', 0) === 1;
  const rank = x.shape.length;
  return [typed(x.dtype, x.shape.map((d, i) => (i === 0 || (last ? i === rank - 1 : i === 1) ? d : 1)))];
};

export const quantizationRules: RuleTable = {
  '': {
    QuantizeLinear: quantizeLinear,
    DequantizeLinear: dequantizeLinear,
    DynamicQuantizeLinear: dynamicQuantizeLinear,
    MatMulInteger: matmulInteger,
    QLinearMatMul: qlinearMatMul,
  },
  'com.microsoft': {
    QuantizeLinear: quantizeLinear,
    DequantizeLinear: dequantizeLinear,
    MatMulNBits: matMulNBits,
    MatMulIntegerToFloat: matMulIntegerToFloat,
    DynamicQuantizeMatMul: dynamicQuantizeMatMul,
    QLinearAdd: qlinearBinary,
    QLinearMul: qlinearBinary,
    GatherBlockQuantized: gatherBlockQuantized,
    QGemm: qgemm,
    QLinearGlobalAveragePool: qlinearGlobalAveragePool,
  },
};
