// Which ONNX ops a Python expression in a forward becomes when exported, so that a node made
// inside a module's own forward (the `Add` of `out += identity`) can be put on its line.
// Names follow PyTorch's ONNX symbolic functions (opset 14-17).

const CALL_OPS: Record<string, readonly string[]> = {
  flatten: ['Flatten', 'Reshape'],
  view: ['Reshape'],
  reshape: ['Reshape'],
  transpose: ['Transpose'],
  permute: ['Transpose'],
  t: ['Transpose'],
  cat: ['Concat'],
  concat: ['Concat'],
  stack: ['Concat', 'Unsqueeze'],
  softmax: ['Softmax'],
  log_softmax: ['LogSoftmax'],
  relu: ['Relu'],
  gelu: ['Erf', 'Mul', 'Add', 'Div', 'Gelu'],
  silu: ['Sigmoid', 'Mul'],
  sigmoid: ['Sigmoid'],
  tanh: ['Tanh'],
  matmul: ['MatMul'],
  bmm: ['MatMul'],
  einsum: ['Einsum'],
  layer_norm: ['LayerNormalization'],
  masked_fill: ['Where', 'Equal', 'Cast'],
  where: ['Where'],
  sqrt: ['Sqrt'],
  rsqrt: ['Sqrt', 'Reciprocal'],
  exp: ['Exp'],
  pow: ['Pow'],
  mean: ['ReduceMean'],
  sum: ['ReduceSum'],
  max: ['ReduceMax', 'Max'],
  arange: ['Range'],
  cross_entropy: ['SoftmaxCrossEntropyLoss', 'LogSoftmax', 'NegativeLogLikelihoodLoss'],
  dropout: ['Dropout'],
  tril: ['Trilu'],
  triu: ['Trilu'],
  split: ['Split', 'Slice'],
  chunk: ['Split', 'Slice'],
  unsqueeze: ['Unsqueeze'],
  squeeze: ['Squeeze'],
  size: ['Shape', 'Gather'],
  expand: ['Expand'],
  repeat: ['Tile'],
  max_pool2d: ['MaxPool'],
  avg_pool2d: ['AveragePool'],
  adaptive_avg_pool2d: ['GlobalAveragePool'],
  embedding: ['Gather'],
  linear: ['Gemm', 'MatMul', 'Add'],
  scaled_dot_product_attention: ['MatMul', 'Softmax', 'Mul', 'Div', 'Add', 'Transpose'],
  add: ['Add'],
  sub: ['Sub'],
  mul: ['Mul'],
  div: ['Div'],
  contiguous: [],
};

const OPERATOR_OPS: Record<string, readonly string[]> = {
  '+': ['Add'], '+=': ['Add'],
  '-': ['Sub'], '-=': ['Sub'],
  '*': ['Mul'], '*=': ['Mul'],
  // `//` is left out: in forwards it divides Python ints (sizes), which tracing turns into constants.
  '/': ['Div'], '/=': ['Div'],
  '@': ['MatMul'], '@=': ['MatMul'],
  '**': ['Pow'],
};

export const SUBSCRIPT_OPS: readonly string[] = ['Slice', 'Gather'];

/** Ops of a call by its callee text (`torch.flatten`, `x.view`, `F.softmax`); [] when unknown. */
export function opsOfCall(callee: string): readonly string[] {
  const name = callee.split('.').pop() ?? '';
  return Object.prototype.hasOwnProperty.call(CALL_OPS, name) ? CALL_OPS[name] : [];
}

export function opsOfOperator(operator: string): readonly string[] {
  return OPERATOR_OPS[operator] ?? [];
}
