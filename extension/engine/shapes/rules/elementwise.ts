// Element-wise operators and activations: numpy broadcasting, the first input's dtype (bool for
// comparisons), and folding of small integer tensors (shape arithmetic).
import type { DType } from '../../graph';
import type { InferredTensor, RuleTable, ShapeRule } from '../types';
import { broadcastAll } from '../dim-math';
import { castValue, isIntegerDType, mapBroadcast, tensor } from '../fold';
import { dtypeFromCode } from '../../onnx/dtype-codes';
import { like, typed, type Inputs } from './util';

type Fold = (args: number[], dtype: DType) => number;

/** Same shape and dtype as input 0; `fold` computes values of small constant inputs. */
function unary(fold?: (x: number) => number): ShapeRule {
  return (_node, [x]) => {
    if (!x) return [null];
    if (fold && x.value) return [tensor(x.dtype, x.shape, x.value.map(fold))];
    return [like(x)];
  };
}

function firstDType(inputs: Inputs): DType {
  for (const t of inputs) if (t && t.dtype !== 'undefined') return t.dtype;
  return 'undefined';
}

/** Broadcast over all present inputs. */
function broadcasting(outDType?: DType, fold?: Fold): ShapeRule {
  return (_node, inputs) => {
    const present = inputs.filter((t): t is InferredTensor => t !== undefined);
    if (present.length === 0) return [null];
    const shape = broadcastAll(present.map((t) => t.shape));
    const dtype = outDType ?? firstDType(present);
    const inDType = firstDType(present);
    const value = fold ? mapBroadcast(present, shape, (a) => fold(a, inDType)) : undefined;
    return [tensor(dtype, shape, value)];
  };
}

const intDiv = (a: number, b: number, d: DType) => (isIntegerDType(d) ? (b === 0 ? 0 : Math.trunc(a / b)) : a / b);
const floorMod = (a: number, b: number) => (b === 0 ? 0 : a - b * Math.floor(a / b));
const truthy = (x: number) => (x !== 0 ? 1 : 0);
/** ONNX Round: halves to even. */
const roundHalfEven = (x: number) => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

const where: ShapeRule = (_node, inputs) => {
  const [c, x, y] = inputs;
  if (!c || !x || !y) return [null];
  const shape = broadcastAll([c.shape, x.shape, y.shape]);
  const dtype = x.dtype !== 'undefined' ? x.dtype : y.dtype;
  return [tensor(dtype, shape, mapBroadcast([c, x, y], shape, ([cc, xx, yy]) => (cc ? xx : yy)))];
};

const clip: ShapeRule = (_node, inputs, ctx) => {
  const [x, lo, hi] = inputs;
  if (!x) return [null];
  if (!x.value) return [like(x)];
  const min = ctx.opset >= 11 ? lo?.value?.[0] ?? -Infinity : ctx.float('min', -Infinity);
  const max = ctx.opset >= 11 ? hi?.value?.[0] ?? Infinity : ctx.float('max', Infinity);
  if ((lo && !lo.value) || (hi && !hi.value)) return [like(x)];
  return [tensor(x.dtype, x.shape, x.value.map((v) => Math.min(Math.max(v, min), max)))];
};

const cast: ShapeRule = (_node, [x], ctx) => {
  if (!x) return [null];
  const to = dtypeFromCode(ctx.int('to', 0));
  return [tensor(to, x.shape, x.value?.map((v) => castValue(v, to)))];
};

const castLike: ShapeRule = (_node, [x, target]) => {
  if (!x || !target) return [null];
  return [tensor(target.dtype, x.shape, x.value?.map((v) => castValue(v, target.dtype)))];
};

/** Dropout: output, and from opset 10 a bool mask of the same shape. */
const dropout: ShapeRule = (_node, [x], ctx) => {
  if (!x) return [null, null];
  return [tensor(x.dtype, x.shape, x.value), typed(ctx.opset >= 10 ? 'bool' : x.dtype, x.shape)];
};

const isPredicate: ShapeRule = (_node, [x]) => (x ? [typed('bool', x.shape)] : [null]);

/** com.microsoft BiasSplitGelu: [B, S, 2D] -> [B, S, D]. */
const biasSplitGelu: ShapeRule = (_node, [x]) => {
  if (!x?.shape) return [like(x)];
  const last = x.shape[x.shape.length - 1];
  return [typed(x.dtype, [...x.shape.slice(0, -1), typeof last === 'number' ? last / 2 : null])];
};

const SAME_SHAPE_OPS = [
  'Exp', 'Log', 'Tanh', 'Sigmoid', 'Erf', 'Reciprocal', 'Softplus', 'Softsign', 'HardSigmoid',
  'HardSwish', 'Mish', 'Elu', 'Selu', 'Celu', 'LeakyRelu', 'ThresholdedRelu', 'Gelu', 'Shrink',
  'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh',
  'Softmax', 'LogSoftmax', 'Hardmax', 'LpNormalization', 'MeanVarianceNormalization', 'CumSum',
  'Trilu', 'BitwiseNot', 'ReverseSequence', 'ScatterND', 'ScatterElements', 'Scatter', 'Swish',
];

/** Same shape as input 0; dtype from the `dtype` attribute when set (EyeLike, RandomNormalLike...). */
const likeWithDType: ShapeRule = (_node, [x], ctx) => {
  if (!x) return [null];
  const code = ctx.int('dtype', 0);
  return [typed(code ? dtypeFromCode(code) : x.dtype, x.shape)];
};

const onnx: Record<string, ShapeRule> = {
  Identity: unary((x) => x),
  Neg: unary((x) => -x),
  Abs: unary(Math.abs),
  Floor: unary(Math.floor),
  Ceil: unary(Math.ceil),
  Round: unary(roundHalfEven),
  Sign: unary(Math.sign),
  Sqrt: unary(Math.sqrt),
  Relu: unary((x) => Math.max(x, 0)),
  Not: unary((x) => (x ? 0 : 1)),
  Add: broadcasting(undefined, ([a, b]) => a + b),
  Sub: broadcasting(undefined, ([a, b]) => a - b),
  Mul: broadcasting(undefined, ([a, b]) => a * b),
  Div: broadcasting(undefined, ([a, b], d) => intDiv(a, b, d)),
  Mod: broadcasting(undefined, ([a, b], d) => (isIntegerDType(d) ? floorMod(a, b) : a % b)),
  Pow: broadcasting(undefined, ([a, b]) => a ** b),
  Min: broadcasting(undefined, (a) => Math.min(...a)),
  Max: broadcasting(undefined, (a) => Math.max(...a)),
  Sum: broadcasting(undefined, (a) => a.reduce((s, v) => s + v, 0)),
  Mean: broadcasting(),
  PRelu: broadcasting(),
  BitShift: broadcasting(),
  BitwiseAnd: broadcasting(),
  BitwiseOr: broadcasting(),
  BitwiseXor: broadcasting(),
  Equal: broadcasting('bool', ([a, b]) => (a === b ? 1 : 0)),
  Less: broadcasting('bool', ([a, b]) => (a < b ? 1 : 0)),
  Greater: broadcasting('bool', ([a, b]) => (a > b ? 1 : 0)),
  LessOrEqual: broadcasting('bool', ([a, b]) => (a <= b ? 1 : 0)),
  GreaterOrEqual: broadcasting('bool', ([a, b]) => (a >= b ? 1 : 0)),
  And: broadcasting('bool', ([a, b]) => truthy(a) & truthy(b)),
  Or: broadcasting('bool', ([a, b]) => truthy(a) | truthy(b)),
  Xor: broadcasting('bool', ([a, b]) => truthy(a) ^ truthy(b)),
  Where: where,
  Clip: clip,
  Cast: cast,
  CastLike: castLike,
  Dropout: dropout,
  IsNaN: isPredicate,
  IsInf: isPredicate,
};
for (const op of SAME_SHAPE_OPS) onnx[op] = unary();
for (const op of ['EyeLike', 'RandomNormalLike', 'RandomUniformLike', 'Bernoulli']) onnx[op] = likeWithDType;

const microsoft: Record<string, ShapeRule> = {
  Gelu: unary(),
  QuickGelu: unary(),
  FastGelu: broadcasting(),
  BiasGelu: broadcasting(),
  BiasAdd: broadcasting(),
  BiasSplitGelu: biasSplitGelu,
  BiasDropout: dropout,
  Trilu: unary(),
};

export const elementwiseRules: RuleTable = { '': onnx, 'com.microsoft': microsoft };
