// Kernel scratch: bytes an ONNX Runtime CPU kernel takes from the arena and gives back inside one
// call, after its outputs are allocated. One entry per op, each with the source it follows; an op
// without an entry allocates no scratch in the session the runner measures. An entry lists the
// kernel's requests in the order it makes them (each is rounded and placed by the arena on its own);
// all are alive together and given back when the kernel returns.
import { elementCount, type Dim, type GraphNode } from '../graph';
import type { InferredTensor } from '../shapes/types';
import { DEFAULT_MLAS_KERNELS } from './mlas-kernels';
import { qlinearConvPacking, type ConstantView } from './prepack';

export interface ScratchContext {
  shapes: Map<string, InferredTensor>;
  /** Intra-op thread pool size (ORT's default: the physical core count). */
  intraOpThreads: number;
  /**
   * Whether kernels prepacked their constant weights at load (ORT's default; the runner's
   * attribution session sets session.disable_prepacking). Absent: prepacked.
   */
  prepacked?: boolean;
}

export interface ScratchEntry {
  /** Where the formula comes from. */
  source: string;
  requests(node: GraphNode, ctx: ScratchContext): number[];
}

// onnxruntime/core/mlas/lib/mlasi.h, convolve.cpp
const SGEMM_STRIDEN = 128;
const SGEMM_STRIDEK = 128;
/** MLAS_CONV_WORKING_BUFFER_SIZE_PER_THREAD: floats of one thread's im2col panel. */
const CONV_WORKING_FLOATS_PER_THREAD = SGEMM_STRIDEN * SGEMM_STRIDEK;
const SGEMM_THREAD_COMPLEXITY = 64 * 1024;
const MAXIMUM_THREAD_COUNT = 16;
const SGEMM_STRIDEN_THREAD_ALIGN = 16;

function numbers(shape: Dim[] | null | undefined): number[] | null {
  if (!shape || shape.some((d) => typeof d !== 'number')) return null;
  return shape as number[];
}

function intsAttr(node: GraphNode, name: string): number[] | null {
  const a = node.attributes[name];
  return a?.kind === 'ints' ? a.value : null;
}

function intAttr(node: GraphNode, name: string, fallback: number): number {
  const a = node.attributes[name];
  return a?.kind === 'int' ? a.value : fallback;
}

interface ConvGeometry {
  inputChannels: number; // per group
  filterCount: number; // per group
  kernelSize: number; // product of kernel dims
  outputSize: number; // product of output spatial dims
  stridesOne: boolean;
  paddingZero: boolean;
  dilationsOne: boolean;
  input: number[];
  kernel: number[];
  batch: number;
  group: number;
  pads: number[];
  strides: number[];
}

function convGeometry(node: GraphNode, ctx: ScratchContext): ConvGeometry | null {
  const x = numbers(ctx.shapes.get(node.inputs[0])?.shape);
  const w = numbers(ctx.shapes.get(node.inputs[1])?.shape);
  const y = numbers(ctx.shapes.get(node.outputs[0])?.shape);
  if (!x || !w || !y || x.length < 3 || w.length !== x.length || y.length !== x.length) return null;
  const group = intAttr(node, 'group', 1);
  const spatial = x.length - 2;
  const strides = intsAttr(node, 'strides') ?? new Array<number>(spatial).fill(1);
  const pads = intsAttr(node, 'pads') ?? new Array<number>(spatial * 2).fill(0);
  const dilations = intsAttr(node, 'dilations') ?? new Array<number>(spatial).fill(1);
  const autoPad = node.attributes.auto_pad;
  const padded = autoPad?.kind === 'string' && (autoPad.value === 'SAME_UPPER' || autoPad.value === 'SAME_LOWER');
  const kernel = w.slice(2);
  return {
    inputChannels: x[1] / group,
    filterCount: w[0] / group,
    kernelSize: elementCount(kernel) ?? 0,
    outputSize: elementCount(y.slice(2)) ?? 0,
    stridesOne: strides.every((s) => s === 1),
    paddingZero: !padded && pads.every((p) => p === 0),
    dilationsOne: dilations.every((d) => d === 1),
    input: x.slice(2),
    kernel,
    batch: x[0],
    group,
    pads,
    strides,
  };
}

/** MlasConvAlgorithmDepthwiseMultiplier2 (x86-64): a 7 x 7, stride-2, pad-3 grouped conv with two filters per group. */
function isDepthwiseMultiplier2(g: ConvGeometry): boolean {
  return g.kernel.length === 2 && g.group > 1 && g.filterCount === 2 && g.inputChannels === 1
    && g.kernel[0] === 7 && g.kernel[1] === 7 && g.pads.every((p) => p === 3) && g.strides.every((s) => s === 2) && g.dilationsOne;
}

/** MlasConvPrepare's WorkingBufferSize in floats, for 1-D and 2-D convolutions (1-D is promoted to 2-D). */
export function mlasConvWorkingFloats(g: ConvGeometry, threads: number): number {
  const k = g.inputChannels * g.kernelSize;
  const input2d = g.input.length === 1 ? [1, g.input[0]] : g.input;
  const kernel2d = g.kernel.length === 1 ? [1, g.kernel[0]] : g.kernel;
  if (g.stridesOne && g.paddingZero) {
    if (k === g.inputChannels) return 0; // pointwise: GEMM straight on the input
    if (input2d.length === 2 && g.dilationsOne && g.inputChannels === 1) {
      if (kernel2d[1] === input2d[1]) return 0;
      if (kernel2d[0] === input2d[0] && kernel2d[1] === 1) return 0;
    }
  }
  if (g.filterCount > g.outputSize) return g.outputSize * k; // ExpandThenGemm: the whole im2col matrix
  if (isDepthwiseMultiplier2(g)) return 0;
  // Batched or grouped (MlasConvPrepare's BatchCount > 1 || GroupCount > 1 case): one working
  // panel per thread, as many threads as images x groups up to the pool size. ORT 1.30 measures
  // one MLAS_CONV_WORKING_BUFFER_SIZE_PER_THREAD panel each (later MLAS takes the larger of that
  // and the per-group im2col matrix): test/integration/engine/ort-conv-groups.test.ts.
  if (g.batch > 1 || g.group > 1) return Math.min(Math.max(1, threads), g.batch * g.group) * CONV_WORKING_FLOATS_PER_THREAD;
  // ExpandThenGemmSegmented: one panel per thread slicing N.
  const complexity = g.filterCount * g.outputSize * k;
  let target = complexity < SGEMM_THREAD_COMPLEXITY * MAXIMUM_THREAD_COUNT
    ? Math.floor(complexity / SGEMM_THREAD_COMPLEXITY) + 1 : MAXIMUM_THREAD_COUNT;
  target = Math.min(target, Math.max(1, threads));
  let strideN = Math.ceil(g.outputSize / target);
  if (target > 1) {
    strideN = Math.ceil(strideN / SGEMM_STRIDEN_THREAD_ALIGN) * SGEMM_STRIDEN_THREAD_ALIGN;
    if (strideN >= g.outputSize) target = 1;
    else if (strideN * (target - 1) >= g.outputSize) target--;
  }
  return target * CONV_WORKING_FLOATS_PER_THREAD;
}

export const SCRATCH_TABLE: Record<string, ScratchEntry> = {
  Conv: {
    source: 'onnxruntime/core/providers/cpu/nn/conv.cc (float Conv, 1-D/2-D via MlasConv) allocates MlasConvPrepare\'s '
      + 'WorkingBufferSize floats: 0 for pointwise, the im2col matrix when filters outnumber outputs, '
      + 'else threads x MLAS_CONV_WORKING_BUFFER_SIZE_PER_THREAD (128 x 128 floats = 64 KiB per thread), the threads '
      + 'min(pool, batch x group) when batched or grouped, none for the x86-64 depthwise-multiplier-2 7 x 7 kernel',
    requests(node, ctx) {
      if (ctx.shapes.get(node.inputs[0])?.dtype !== 'float32') return [];
      const g = convGeometry(node, ctx);
      if (!g || g.input.length > 2) return [];
      return nonZero([4 * mlasConvWorkingFloats(g, ctx.intraOpThreads)]);
    },
  },
  ConvInteger: {
    source: 'onnxruntime/core/providers/cpu/quantization/conv_integer.cc: an 8-bit im2col buffer of '
      + '(C / group) x kernel size x output image size bytes, unless the kernel is 1 x ... x 1 with strides 1 and no padding',
    requests(node, ctx) {
      const g = convGeometry(node, ctx);
      if (!g) return [];
      if (g.kernelSize === 1 && g.stridesOne && g.paddingZero) return [];
      return nonZero([g.inputChannels * g.kernelSize * g.outputSize]);
    },
  },
  Resize: {
    source: 'onnxruntime/core/providers/cpu/tensor/upsample.cc (UpsampleBilinear, SetupUpsampleBilinear): linear mode on a '
      + '2-D or NCHW input with N and C kept takes one buffer of int32 input indices and float weights, two of each per '
      + 'output row and column: 16 x (output height + output width) bytes',
    requests(node, ctx) {
      const mode = node.attributes.mode;
      const antialias = node.attributes.antialias;
      if (mode?.kind !== 'string' || mode.value !== 'linear' || (antialias?.kind === 'int' && antialias.value !== 0)) return [];
      const x = numbers(ctx.shapes.get(node.inputs[0])?.shape);
      const y = numbers(ctx.shapes.get(node.outputs[0])?.shape);
      if (!x || !y || x.length !== y.length || (y.length !== 2 && y.length !== 4)) return [];
      if (y.length === 4 && (x[0] !== y[0] || x[1] !== y[1])) return [];
      return nonZero([16 * (y[y.length - 2] + y[y.length - 1])]);
    },
  },
  QLinearConv: { get source() { return QLINEAR_CONV.source; }, requests: (n, c) => QLINEAR_CONV.requests(n, c) },
  LSTM: {
    source: 'onnxruntime/core/providers/cpu/rnn/lstm_base.cc (LSTMBase::ComputeImpl) and uni_directional_lstm.cc '
      + '(AllocateBuffers, Compute): float LSTM takes from the temp-space allocator a Y_h / Y_c stand-in when that '
      + 'output is absent, then per direction (both constructed before either runs) the hidden/cell state buffers, '
      + 'the gate matrix seq x batch x 4 x hidden, fused biases, a reversed input and output copy for the backward '
      + 'direction, peephole copies, and the int32 sequence lengths when none are given',
    requests: lstmRequests,
  },
};

function nonZero(sizes: number[]): number[] {
  return sizes.filter((b) => b > 0);
}

const FLOAT_BYTES = 4;
const INT32_BYTES = 4;

/** One UniDirectionalLstm's AllocateBuffers, in its order, in elements. */
function lstmDirectionFloats(seq: number, batch: number, input: number, hidden: number, reverse: boolean, bias: boolean, peepholes: boolean): number[] {
  const sizes = [hidden, hidden, batch * hidden, batch * hidden, batch * hidden, 4 * hidden * batch * seq];
  if (bias) sizes.push(hidden, hidden, hidden, hidden);
  if (reverse) sizes.push(seq * batch * input, seq * batch * hidden);
  if (peepholes) sizes.push(hidden, hidden, hidden);
  return sizes;
}

function lstmRequests(node: GraphNode, ctx: ScratchContext): number[] {
  const xType = ctx.shapes.get(node.inputs[0]);
  const x = numbers(xType?.shape);
  const hidden = intAttr(node, 'hidden_size', 0);
  // layout = 1 is rejected by the kernel; double is not implemented.
  if (xType?.dtype !== 'float32' || !x || x.length !== 3 || hidden <= 0 || intAttr(node, 'layout', 0) !== 0) return [];
  const [seq, batch, input] = x;
  const dir = node.attributes.direction;
  const direction = dir?.kind === 'string' ? dir.value : 'forward';
  const directions = direction === 'bidirectional' ? 2 : 1;
  const present = (i: number) => Boolean(node.inputs[i]);
  const bytes: number[] = [];
  if (!node.outputs[1]) bytes.push(FLOAT_BYTES * batch * hidden * directions);
  if (!node.outputs[2]) bytes.push(FLOAT_BYTES * batch * hidden * directions);
  const perDirection = (reverse: boolean) => lstmDirectionFloats(seq, batch, input, hidden, reverse, present(3), present(7)).map((n) => FLOAT_BYTES * n);
  if (directions === 2) bytes.push(...perDirection(false), ...perDirection(true));
  else bytes.push(...perDirection(direction === 'reverse'));
  // Compute: each direction's sequence lengths, filled with seq, when the input has none.
  if (!present(4)) for (let d = 0; d < directions; d++) bytes.push(INT32_BYTES * batch);
  return nonZero(bytes);
}

/** MLAS_SYMM_QGEMM_BUF_OVERRUN (mlas.h): bytes QLinearConv pads its im2col and transposed-input buffers with. */
const QGEMM_BUF_OVERRUN = 30;
const POINTER_BYTES = 8;

function constantView(ctx: ScratchContext, name: string | undefined): ConstantView | null {
  const t = name ? ctx.shapes.get(name) : undefined;
  const dims = numbers(t?.shape);
  return t && dims ? { dtype: t.dtype, dims, values: t.value } : null;
}

/** QLinearConv<uint8_t>::Compute's temp-space requests, in its order (providers/cpu/quantization/qlinearconv.cc). */
function qlinearConvRequests(node: GraphNode, ctx: ScratchContext): number[] {
  const channelsLast = intAttr(node, 'channels_last', 0) !== 0;
  const x = numbers(ctx.shapes.get(node.inputs[0])?.shape);
  const w = numbers(ctx.shapes.get(node.inputs[3])?.shape);
  const y = numbers(ctx.shapes.get(node.outputs[0])?.shape);
  if (ctx.shapes.get(node.inputs[0])?.dtype !== 'uint8' || !x || !w || !y || w.length < 3 || x.length !== w.length || y.length !== x.length) return [];
  const spatial = (s: number[]) => (channelsLast ? s.slice(1, -1) : s.slice(2));
  const [m, groupIn] = w;
  const kernelSize = elementCount(w.slice(2)) ?? 0;
  const outputImage = elementCount(spatial(y)) ?? 0;
  const xOffset = (channelsLast ? x[x.length - 1] : x[1]) * (elementCount(spatial(x)) ?? 0);
  let group = Math.max(1, intAttr(node, 'group', 1));
  // Only the packing's kind is read here, and no kernel choice changes it.
  const packing = ctx.prepacked === false ? null : qlinearConvPacking((n) => constantView(ctx, n), node, DEFAULT_MLAS_KERNELS);
  const bytes: number[] = [];
  if (!packing) bytes.push(m * groupIn * kernelSize); // the weight reordered per call
  const symmetric = packing?.kind === 'sym';
  const depthwise = (symmetric || packing?.kind !== 'gemm') && groupIn === 1 && m / group === 1;
  const kernelDim = (depthwise ? group : groupIn) * kernelSize;
  if (depthwise) group = 1;
  if (!symmetric) bytes.push(4 * m * outputImage); // int32 GEMM output before requantising
  if (!channelsLast) bytes.push(xOffset + QGEMM_BUF_OVERRUN, m * outputImage);
  const strides = intsAttr(node, 'strides') ?? [];
  const pads = intsAttr(node, 'pads') ?? [];
  const pointwise = kernelSize === 1 && strides.every((s) => s === 1) && pads.every((p) => p === 0);
  if (depthwise || (!pointwise && symmetric)) bytes.push(POINTER_BYTES * kernelSize * outputImage); // indirection buffer
  else if (!pointwise) bytes.push((w.length > 4 ? group : 1) * kernelDim * outputImage + QGEMM_BUF_OVERRUN); // im2col
  return nonZero(bytes);
}

const QLINEAR_CONV: ScratchEntry = {
  source: 'onnxruntime/core/providers/cpu/quantization/qlinearconv.cc (QLinearConv<uint8_t>::Compute, u8 input, s8 weights on x86-64): '
    + 'the weight reordered (M x C/group x kernel bytes) when not prepacked; an int32 GEMM output of M x output image unless '
    + 'the symmetric MlasConvSym path (weights packed by MlasConvSymPackWSize) runs; NCHW input and output transposes '
    + '(C x input image + MLAS_SYMM_QGEMM_BUF_OVERRUN, M x output image) unless channels_last; then an indirection buffer '
    + 'of kernel x output image pointers (depthwise or symmetric) or an im2col buffer of C/group x kernel x output image '
    + '+ MLAS_SYMM_QGEMM_BUF_OVERRUN bytes, neither for a 1 x 1, stride-1, unpadded kernel',
  requests: qlinearConvRequests,
};

const QGEMM: ScratchEntry = {
  source: 'onnxruntime/contrib_ops/cpu/quantization/qgemm.cc (QGemm::Compute): an unpacked B with transB is first '
    + 'transposed to a K x N byte copy (quantization::TransPoseInputData); with a y_scale (a quantised output) the '
    + 'GEMM writes an int32 M x N buffer from the temp-space allocator, requantised into Y',
  requests(node, ctx) {
    const y = numbers(ctx.shapes.get(node.outputs[0])?.shape);
    const b = numbers(ctx.shapes.get(node.inputs[3])?.shape);
    if (!y || y.length !== 2 || !b || b.length !== 2) return [];
    const bytes: number[] = [];
    // B is taken as packed whenever prepacking is on (a constant B, as QDQ fusion writes it).
    if (ctx.prepacked === false && intAttr(node, 'transB', 0) !== 0) bytes.push(b[0] * b[1]);
    if (node.inputs[7]) bytes.push(4 * y[0] * y[1]);
    return nonZero(bytes);
  },
};

const BIAS_GELU: ScratchEntry = {
  source: 'onnxruntime/contrib_ops/cpu/bert/bias_gelu.cc (BiasGelu<float>::Compute): a temporary of the input\'s size '
    + '(sizeof(T) x X elements) from the temp-space allocator for x + bias before the erf',
  requests(node, ctx) {
    const x = ctx.shapes.get(node.inputs[0]);
    const n = x?.dtype === 'float32' ? elementCount(x.shape) : null;
    return n ? [4 * n] : [];
  },
};

/**
 * com.microsoft kernels with scratch (the NHWC transformer's QLinearConv is the same kernel with
 * channels_last). FusedConv (fused_conv.cc) is the float Conv kernel with an activation applied
 * after it: the same MlasConv working buffer.
 */
export const MS_SCRATCH_TABLE: Record<string, ScratchEntry> = { QLinearConv: QLINEAR_CONV, QGemm: QGEMM, FusedConv: SCRATCH_TABLE.Conv, BiasGelu: BIAS_GELU };

/** The arena requests the node's kernel makes and gives back inside its call, in order (none without an entry). */
export function kernelScratchRequests(node: GraphNode, ctx: ScratchContext): number[] {
  const onnx = node.domain === '' || node.domain === 'ai.onnx';
  const entry = onnx ? SCRATCH_TABLE[node.opType] : node.domain === 'com.microsoft' ? MS_SCRATCH_TABLE[node.opType] : undefined;
  return entry ? entry.requests(node, ctx) : [];
}

/** Scratch bytes the node's kernel allocates and frees inside its call (0 when the table has no entry). */
export function kernelScratchBytes(node: GraphNode, ctx: ScratchContext): number {
  return kernelScratchRequests(node, ctx).reduce((a, b) => a + b, 0);
}
