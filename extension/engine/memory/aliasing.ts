// Which outputs share their input's buffer in ONNX Runtime's CPU/CUDA kernels: views (`Alias`)
// always, element-wise kernels (`MayInplace`) when the input dies at that node with the same size.

export const VIEW_OPS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity']);

export const MAY_INPLACE_OPS = new Set([
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Elu', 'Selu', 'Softplus', 'HardSigmoid', 'HardSwish',
  'ThresholdedRelu', 'Erf', 'Exp', 'Log', 'Neg', 'Abs', 'Sqrt', 'Reciprocal', 'Floor', 'Ceil',
  'Dropout', 'Gelu', 'FastGelu', 'QuickGelu', 'Cast', 'Clip',
  // softmax.cc registers the float kernels of opsets 11 and 13 with MayInplace(0, 0).
  'Softmax',
]);
