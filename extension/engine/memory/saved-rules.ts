// What each operator keeps for its backward pass, following PyTorch autograd's saved tensors
// (tools/autograd/derivatives.yaml): the rule is named so hovers can say why bytes are held.
import type { DType, GraphNode } from '../graph';
import type { InferredTensor } from '../shapes/types';

/** A tensor of the graph kept alive until this node's backward step. */
export interface SavedRef { kind: 'tensor'; name: string }
/** A buffer the op allocates in forward only for backward (statistics, masks, indices). */
export interface SavedExtra { kind: 'extra'; label: string; dtype: DType; elements: number }
export type SavedItem = SavedRef | SavedExtra;

export interface SavedDecision {
  rule: string;
  saved: SavedItem[];
  /** Extra temporary elements (in the grad dtype) the backward step needs beyond its outputs. */
  backwardWorkspace: number;
  /** Ops whose recomputation changes results (random): checkpointing them needs RNG state. */
  random?: boolean;
  /** No rule is known for the op: nothing is counted, and the analysis reports it. */
  unknown?: boolean;
}

export interface SavedContext {
  tensor(name: string): InferredTensor | undefined;
  /** Whether the input at this position needs a gradient (depends on a trainable parameter). */
  requiresGrad(inputIndex: number): boolean;
  /** The value of a one-element Constant input (a Python scalar the exporter wrote), if it is one. */
  scalar(name: string): number | undefined;
  /** Where the step runs: some ops save different buffers per device (dropout). */
  device: 'cpu' | 'cuda';
  /** Major version of the PyTorch that runs the step, when known (a .py model); else the current one. */
  torchMajor: number | null;
}

const NONE = (rule: string): SavedDecision => ({ rule, saved: [], backwardWorkspace: 0 });
const ref = (name: string | undefined): SavedItem[] => (name ? [{ kind: 'tensor', name }] : []);

/** A decision that keeps one tensor (the input of an op recognised from several nodes). */
export const savesInputDecision = (rule: string, name: string): SavedDecision => ({ rule, saved: ref(name), backwardWorkspace: 0 });

function count(t: InferredTensor | undefined): number {
  if (!t?.shape) return 0;
  let n = 1;
  for (const d of t.shape) n *= typeof d === 'number' ? d : 0;
  return n;
}

/** Elements of the input with the normalised axes reduced to 1 (per-row statistics). */
function statsElements(t: InferredTensor | undefined, axis: number): number {
  if (!t?.shape) return 0;
  const rank = t.shape.length;
  const a = axis < 0 ? axis + rank : axis;
  let n = 1;
  for (let i = 0; i < a; i++) n *= typeof t.shape[i] === 'number' ? (t.shape[i] as number) : 0;
  return n;
}

function intAttr(node: GraphNode, name: string, fallback: number): number {
  const a = node.attributes[name];
  return a?.kind === 'int' ? a.value : fallback;
}

type Rule = (node: GraphNode, ctx: SavedContext) => SavedDecision;

/** Saves each input only when the other input needs a gradient (MatMul: dA = dC·Bᵀ needs B). */
const bilinear: Rule = (node, ctx) => ({
  rule: `${node.opType} saves each input needed by the other's gradient`,
  saved: [...(ctx.requiresGrad(1) ? ref(node.inputs[0]) : []), ...(ctx.requiresGrad(0) ? ref(node.inputs[1]) : [])],
  backwardWorkspace: 0,
});

const savesInput: Rule = (node) => ({ rule: `${node.opType} saves its input`, saved: ref(node.inputs[0]), backwardWorkspace: 0 });
const savesOutput: Rule = (node) => ({ rule: `${node.opType} saves its output`, saved: ref(node.outputs[0]), backwardWorkspace: 0 });
const savesInputs: Rule = (node) => ({
  rule: `${node.opType} saves its inputs`,
  saved: node.inputs.filter(Boolean).flatMap(ref),
  backwardWorkspace: 0,
});
const shapeOnly: Rule = (node) => NONE(`${node.opType} needs only shapes for backward`);

const RULES: Record<string, Rule> = {
  MatMul: bilinear,
  Gemm: (node, ctx) => bilinear(node, ctx),
  Mul: bilinear,
  Einsum: savesInputs,
  Conv: (node) => ({ rule: 'Conv saves its input and weight', saved: [...ref(node.inputs[0]), ...ref(node.inputs[1])], backwardWorkspace: 0 }),
  ConvTranspose: (node) => ({ rule: 'ConvTranspose saves its input and weight', saved: [...ref(node.inputs[0]), ...ref(node.inputs[1])], backwardWorkspace: 0 }),
  Div: divide,
  Pow: power,
  Add: shapeOnly, Sub: shapeOnly, Neg: shapeOnly, Sum: shapeOnly,
  Relu: savesOutput, Sigmoid: savesOutput, Tanh: savesOutput, Exp: savesOutput, Sqrt: savesOutput, Reciprocal: savesOutput,
  Softmax: (node) => ({ rule: 'Softmax saves its output', saved: ref(node.outputs[0]), backwardWorkspace: 0 }),
  LogSoftmax: (node) => ({ rule: 'LogSoftmax saves its output', saved: ref(node.outputs[0]), backwardWorkspace: 0 }),
  Gelu: savesInput, FastGelu: savesInput, BiasGelu: savesInputs, Erf: savesInput, Log: savesInput, Abs: savesInput,
  LeakyRelu: savesInput, Elu: savesOutput, Selu: savesInput, Softplus: savesInput, Mish: savesInput,
  HardSigmoid: savesInput, HardSwish: savesInput, PRelu: savesInputs, Sin: savesInput, Cos: savesInput,
  Clip: savesInput, Max: savesInputs, Min: savesInputs,
  Where: (node) => ({ rule: 'Where saves its condition', saved: ref(node.inputs[0]), backwardWorkspace: 0 }),
  LayerNormalization: (node, ctx) => normStats(node, ctx, 'LayerNorm saves its input, weight and per-row mean and inverse std', 2),
  SimplifiedLayerNormalization: (node, ctx) => normStats(node, ctx, 'RMSNorm saves its input, weight and per-row inverse RMS', 1),
  RMSNormalization: (node, ctx) => normStats(node, ctx, 'RMSNorm saves its input, weight and per-row inverse RMS', 1),
  SkipLayerNormalization: (node, ctx) => normStats(node, ctx, 'SkipLayerNorm saves the summed input and per-row mean and inverse std', 2),
  SkipSimplifiedLayerNormalization: (node, ctx) => normStats(node, ctx, 'SkipRMSNorm saves the summed input and per-row inverse RMS', 1),
  BatchNormalization: (node, ctx) => channelStats(node, ctx, 'BatchNorm saves its input and per-channel mean and inverse std', 1),
  InstanceNormalization: (node, ctx) => channelStats(node, ctx, 'InstanceNorm saves its input and per-(N,C) mean and inverse std', 2),
  GroupNormalization: (node, ctx) => {
    const x = ctx.tensor(node.inputs[0]);
    const groups = intAttr(node, 'num_groups', 1);
    const n = typeof x?.shape?.[0] === 'number' ? x.shape[0] : 0;
    return {
      rule: 'GroupNorm saves its input and per-(N,group) mean and inverse std',
      saved: [...ref(node.inputs[0]), { kind: 'extra', label: 'mean, rstd', dtype: 'float32', elements: 2 * n * groups }],
      backwardWorkspace: 0,
    };
  },
  Dropout: dropout,
  MaxPool: (node, ctx) => {
    const y = ctx.tensor(node.outputs[0]);
    return {
      rule: 'MaxPool saves its input and int64 argmax indices',
      saved: [...ref(node.inputs[0]), node.outputs[1] ? { kind: 'tensor', name: node.outputs[1] } : { kind: 'extra', label: 'argmax indices', dtype: 'int64', elements: count(y) }],
      backwardWorkspace: 0,
    };
  },
  // adaptive_avg_pool2d to 1×1 runs as input.mean((-1, -2), keepdim) in aten (AdaptivePooling).
  AveragePool: savesInput, GlobalAveragePool: mean, GlobalMaxPool: savesInputs, LpPool: savesInputs,
  ReduceMax: (node) => ({ rule: 'ReduceMax saves its input and output', saved: [...ref(node.inputs[0]), ...ref(node.outputs[0])], backwardWorkspace: 0 }),
  ReduceMin: (node) => ({ rule: 'ReduceMin saves its input and output', saved: [...ref(node.inputs[0]), ...ref(node.outputs[0])], backwardWorkspace: 0 }),
  ReduceProd: (node) => ({ rule: 'ReduceProd saves its input and output', saved: [...ref(node.inputs[0]), ...ref(node.outputs[0])], backwardWorkspace: 0 }),
  ReduceL2: (node) => ({ rule: 'ReduceL2 saves its input and output', saved: [...ref(node.inputs[0]), ...ref(node.outputs[0])], backwardWorkspace: 0 }),
  ReduceSumSquare: savesInput, ReduceLogSumExp: (node) => ({ rule: 'ReduceLogSumExp saves its input and output', saved: [...ref(node.inputs[0]), ...ref(node.outputs[0])], backwardWorkspace: 0 }),
  ReduceMean: mean, ReduceSum: shapeOnly, Cast: shapeOnly, Reshape: shapeOnly, Flatten: shapeOnly,
  Squeeze: shapeOnly, Unsqueeze: shapeOnly, Transpose: shapeOnly, Expand: shapeOnly, Slice: shapeOnly,
  Concat: shapeOnly, Split: shapeOnly, Identity: shapeOnly, Tile: shapeOnly, Pad: shapeOnly,
  Gather: (node) => ({ rule: 'Gather saves its indices', saved: ref(node.inputs[1]), backwardWorkspace: 0 }),
  GatherElements: (node) => ({ rule: 'GatherElements saves its indices', saved: ref(node.inputs[1]), backwardWorkspace: 0 }),
  NegativeLogLikelihoodLoss: (node) => ({ rule: 'NLLLoss saves its target', saved: ref(node.inputs[1]), backwardWorkspace: 0 }),
  SoftmaxCrossEntropyLoss: (node, ctx) => {
    const logits = ctx.tensor(node.inputs[0]);
    return {
      rule: 'cross-entropy saves the log-probabilities (batch × positions × vocabulary) and the target',
      saved: [
        node.outputs[1] ? { kind: 'tensor', name: node.outputs[1] } : { kind: 'extra', label: 'log-probabilities', dtype: logits?.dtype ?? 'float32', elements: count(logits) },
        ...ref(node.inputs[1]),
      ],
      backwardWorkspace: 0,
    };
  },
  // Fused attention kernels (flash / memory-efficient) keep q, k, v, the output and a
  // per-row log-sum-exp; never the T×T score matrix.
  MultiHeadAttention: fusedAttention,
  Attention: fusedAttention,
  GroupQueryAttention: fusedAttention,
};

function normStats(node: GraphNode, ctx: SavedContext, rule: string, statsCount: number): SavedDecision {
  const x = ctx.tensor(node.inputs[0]);
  const axis = intAttr(node, 'axis', -1);
  const rows = statsElements(x, axis);
  const statOutputs = node.outputs.slice(1).filter(Boolean);
  const saved: SavedItem[] = [...ref(node.opType.startsWith('Skip') ? (node.outputs[3] || node.inputs[0]) : node.inputs[0]), ...ref(node.inputs[1])];
  if (statOutputs.length > 0) saved.push(...statOutputs.slice(0, statsCount).flatMap(ref));
  else saved.push({ kind: 'extra', label: statsCount === 2 ? 'mean, inverse std' : 'inverse RMS', dtype: 'float32', elements: statsCount * rows });
  return { rule, saved, backwardWorkspace: count(x) };
}

function channelStats(node: GraphNode, ctx: SavedContext, rule: string, perSampleDims: number): SavedDecision {
  const x = ctx.tensor(node.inputs[0]);
  const s = x?.shape ?? [];
  const per = perSampleDims === 1 ? [s[1]] : [s[0], s[1]];
  const elements = per.reduce<number>((a, d) => a * (typeof d === 'number' ? d : 0), 2);
  return {
    rule,
    saved: [...ref(node.inputs[0]), ...ref(node.inputs[1]), { kind: 'extra', label: 'mean, inverse std', dtype: 'float32', elements }],
    backwardWorkspace: 0,
  };
}

function fusedAttention(node: GraphNode, ctx: SavedContext): SavedDecision {
  const q = ctx.tensor(node.inputs[0]);
  const heads = intAttr(node, 'num_heads', 1);
  const s = q?.shape ?? [];
  const rows = (typeof s[0] === 'number' ? s[0] : 0) * (typeof s[1] === 'number' ? s[1] : 0) * heads;
  return {
    rule: 'fused attention saves q, k, v, its output and a per-row log-sum-exp (no T×T scores)',
    saved: [...node.inputs.slice(0, 3).flatMap(ref), ...ref(node.outputs[0]), { kind: 'extra', label: 'log-sum-exp', dtype: 'float32', elements: rows }],
    backwardWorkspace: 0,
  };
}

/**
 * Division (derivatives.yaml div.Tensor: self: grad / other, other: -grad * self / other²):
 * autograd keeps `other` when `self` needs a gradient and both when `other` does. By a Python
 * scalar (div.Scalar, the exporter's one-element Constant) nothing is kept.
 */
function divide(node: GraphNode, ctx: SavedContext): SavedDecision {
  const [a, b] = node.inputs;
  if (ctx.scalar(b) !== undefined) return NONE('Div by a constant saves nothing (div.Scalar: self: grad / other)');
  const saved = ctx.requiresGrad(1) ? [...ref(a), ...ref(b)] : ctx.requiresGrad(0) ? ref(b) : [];
  return { rule: 'Div saves the divisor for the dividend\'s gradient, and the dividend too for the divisor\'s (div.Tensor)', saved, backwardWorkspace: 0 };
}

/** pow.Tensor_Scalar: self: pow_backward(grad, self, exponent) keeps the base only; pow.Tensor_Tensor keeps both and the result. */
function power(node: GraphNode, ctx: SavedContext): SavedDecision {
  if (!ctx.requiresGrad(1)) return { rule: 'Pow by a constant exponent saves its base (pow.Tensor_Scalar)', saved: ref(node.inputs[0]), backwardWorkspace: 0 };
  return { rule: 'Pow saves its inputs and output (pow.Tensor_Tensor)', saved: [...ref(node.inputs[0]), ...ref(node.inputs[1]), ...ref(node.outputs[0])], backwardWorkspace: 0 };
}

/**
 * Dropout in training (aten Dropout.cpp). At p = 0 it returns its input and saves nothing. On
 * CUDA, native_dropout keeps a bool mask (derivatives.yaml native_dropout: input:
 * native_dropout_backward(grad, result1, ...)). On CPU, _dropout_impl draws float noise, scales
 * it by 1/(1-p) and multiplies: the MulBackward0 keeps the noise, in the input's dtype.
 */
function dropout(node: GraphNode, ctx: SavedContext): SavedDecision {
  const x = ctx.tensor(node.inputs[0]);
  const ratio = node.inputs[1] ? ctx.scalar(node.inputs[1]) : 0.5;
  if (ratio === 0) return NONE('Dropout with p = 0 returns its input and saves nothing');
  if (ctx.device === 'cpu') {
    return { rule: 'Dropout on CPU saves its float noise (input × noise)', saved: [{ kind: 'extra', label: 'dropout noise', dtype: x?.dtype ?? 'float32', elements: count(x) }], backwardWorkspace: 0, random: true };
  }
  const mask = node.outputs[1];
  return {
    rule: 'Dropout on CUDA saves its bool mask (native_dropout)',
    saved: mask ? ref(mask) : [{ kind: 'extra', label: 'dropout mask', dtype: 'bool', elements: count(x) }],
    backwardWorkspace: 0,
    random: true,
  };
}

/**
 * mean.dim: PyTorch 2 keeps only sizes (derivatives.yaml: mean_backward(grad, self.sym_sizes(), dim,
 * self.sym_numel() / result.sym_numel(), keepdim)); 1.x's formula reads self, so MeanBackward1 saves it.
 */
function mean(node: GraphNode, ctx: SavedContext): SavedDecision {
  if (ctx.torchMajor !== null && ctx.torchMajor < 2) return { rule: `${node.opType} (mean.dim) saves its input in PyTorch 1.x`, saved: ref(node.inputs[0]), backwardWorkspace: 0 };
  return NONE(`${node.opType} (mean.dim) needs only sizes for backward`);
}

const FLOAT = new Set(['float32', 'float16', 'bfloat16', 'float64']);

export function savedForBackward(node: GraphNode, ctx: SavedContext): SavedDecision {
  // Integer and bool results carry no gradient (Shape, comparisons, ArgMax): autograd records nothing.
  if (node.outputs.every((o) => !o || !FLOAT.has(ctx.tensor(o)?.dtype ?? 'float32'))) return NONE(`${node.opType} has no gradient (integer or bool outputs)`);
  const rule = RULES[node.opType];
  if (rule) return rule(node, ctx);
  return { rule: `${node.opType}: no saved-for-backward rule known; nothing counted`, saved: [], backwardWorkspace: 0, unknown: true };
}
