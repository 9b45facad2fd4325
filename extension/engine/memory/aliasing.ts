// Which outputs share an input's buffer in the ideal plan (engine/memory), the least a runtime can
// hold for the graph. It is a rule about the operators, not about any runtime's kernels: a runtime
// shares at most these (ONNX Runtime's CPU kernels: engine/ort/inplace-kernels.ts, which
// test/unit/memory/aliasing.test.ts holds inside this rule).
// - A view is its input's bytes, always.
// - An element-wise op (every output element computed from the input elements at its own index,
//   numpy broadcasting aside) may write its output over input 0 when input 0 has no later reader
//   and the same byte size: each element is read before it is overwritten, and by no one after.
// - So may an op that reads a whole row before it writes that row (Softmax, LogSoftmax).

export const VIEW_OPS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity']);

/** ONNX's element-wise operators of one tensor input (Clip's bounds and Dropout's ratio are scalars). */
const UNARY_ELEMENTWISE = [
  'Abs', 'Acos', 'Acosh', 'Asin', 'Asinh', 'Atan', 'Atanh', 'BitwiseNot', 'Cast', 'Ceil', 'Celu', 'Clip', 'Cos', 'Cosh',
  'Dropout', 'Elu', 'Erf', 'Exp', 'Floor', 'Gelu', 'HardSigmoid', 'HardSwish', 'IsInf', 'IsNaN', 'LeakyRelu', 'Log',
  'Mish', 'Neg', 'Not', 'Reciprocal', 'Relu', 'Round', 'Selu', 'Shrink', 'Sigmoid', 'Sign', 'Sin', 'Sinh', 'Softplus',
  'Softsign', 'Sqrt', 'Swish', 'Tan', 'Tanh', 'ThresholdedRelu',
  // com.microsoft
  'FastGelu', 'QuickGelu',
];

/** ONNX's element-wise operators of several inputs, broadcast against each other. */
const BROADCAST_ELEMENTWISE = [
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Min', 'Max', 'Sum', 'Mean', 'PRelu', 'BitShift', 'BitwiseAnd', 'BitwiseOr',
  'BitwiseXor', 'And', 'Or', 'Xor', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Where', 'CastLike',
  // com.microsoft
  'BiasGelu',
];

/** Each reads its whole row (the reduction axis) before writing any element of it. */
const ROW_THEN_WRITE = ['Softmax', 'LogSoftmax'];

export const MAY_INPLACE_OPS: ReadonlySet<string> = new Set([...UNARY_ELEMENTWISE, ...BROADCAST_ELEMENTWISE, ...ROW_THEN_WRITE]);
