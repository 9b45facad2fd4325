// The CPU kernels of onnxruntime-node 1.30 that declare MayInplace(0, 0) in their KernelDefBuilder,
// which is what the allocation planner's FindReusableInput reads: the activations registered by
// providers/cpu/activation/activations.cc (Relu, LeakyRelu, Sigmoid, Tanh, Elu, Selu, Celu,
// Softplus, Softsign, HardSigmoid, ThresholdedRelu), Cast (tensor/cast_op.cc), Clip (math/clip.cc),
// Softmax and LogSoftmax (math/softmax.cc). The math/element_wise_ops.cc kernels, unary (Erf, Exp,
// Log, Neg, Abs, Sqrt, Reciprocal, Floor, Ceil, Sin, Round) and binary (Add, Sub, Mul, Div, Pow),
// HardSwish, Dropout and the Gelu kernels declare none: their output gets a buffer of its own (a
// dead one of the same size when the freelist has one).
// test/integration/engine/ort-inplace.test.ts checks these and those against a real session. The
// ideal plan (memory/aliasing.ts) lets every element-wise op write in place: a superset.
export const ORT_CPU_MAY_INPLACE: ReadonlySet<string> = new Set([
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign', 'HardSigmoid', 'ThresholdedRelu',
  'Cast', 'Clip', 'Softmax', 'LogSoftmax',
]);
