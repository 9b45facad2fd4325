// Convolutions and pooling: sliding-window output sizes with explicit pads or auto_pad, strides,
// dilations, ceil_mode; ConvTranspose with output_padding and output_shape.
import type { Dim } from '../../graph';
import type { InferredTensor, RuleTable, ShapeRule, ShapeRuleContext } from '../types';
import { divDim, mulDim, sameDim, unknownDims } from '../dim-math';
import { ShapeError } from '../shape-error';
import { typed } from './util';

interface Window {
  kernel: Dim[];
  strides: number[];
  dilations: number[];
  /** [begin..., end...] */
  pads: number[];
  autoPad: string;
  ceil: boolean;
}

function windowOf(ctx: ShapeRuleContext, kernel: Dim[]): Window {
  const n = kernel.length;
  const ones = new Array<number>(n).fill(1);
  const pads = ctx.ints('pads') ?? new Array<number>(2 * n).fill(0);
  if (pads.length !== 2 * n) throw new ShapeError(`pads has ${pads.length} values, expected ${2 * n}`);
  return {
    kernel,
    strides: ctx.ints('strides') ?? ones,
    dilations: ctx.ints('dilations') ?? ones,
    pads,
    autoPad: ctx.string('auto_pad', 'NOTSET'),
    ceil: ctx.int('ceil_mode', 0) === 1,
  };
}

/** Output length of one sliding-window axis (ONNX Conv/Pool, as ONNX Runtime computes it). */
export function windowLength(size: Dim, w: Window, i: number): Dim {
  if (typeof size !== 'number') return null;
  const s = w.strides[i] ?? 1;
  if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER') return Math.ceil(size / s);
  const k = w.kernel[i];
  if (typeof k !== 'number') return null;
  const d = w.dilations[i] ?? 1;
  const begin = w.autoPad === 'VALID' ? 0 : w.pads[i];
  const end = w.autoPad === 'VALID' ? 0 : w.pads[i + w.kernel.length];
  const span = size + begin + end - d * (k - 1) - 1;
  if (span < 0) throw new ShapeError(`kernel ${k} (dilation ${d}) is larger than the padded input ${size + begin + end}`);
  if (!w.ceil) return Math.floor(span / s) + 1;
  let out = Math.ceil(span / s) + 1;
  // The last window must start inside the input or the left padding (PyTorch, ONNX Runtime).
  if ((out - 1) * s >= size + begin) out--;
  return out;
}

function spatial(x: Dim[], w: Window): Dim[] {
  return x.slice(2).map((d, i) => windowLength(d, w, i));
}

function convShape(x: InferredTensor | undefined, wt: InferredTensor | undefined, ctx: ShapeRuleContext): Dim[] | null {
  if (!x?.shape || !wt?.shape) {
    const rank = x?.shape?.length ?? wt?.shape?.length;
    return rank === undefined ? null : unknownDims(rank);
  }
  if (x.shape.length < 3 || wt.shape.length !== x.shape.length) {
    throw new ShapeError(`Conv input ${x.shape.length}-D and weight ${wt.shape.length}-D do not match`);
  }
  const group = ctx.int('group', 1);
  sameDim(x.shape[1], mulDim(wt.shape[1], group), 'Conv input channels differ from weight channels x group');
  const kernel = ctx.ints('kernel_shape') ?? wt.shape.slice(2);
  return [x.shape[0], wt.shape[0], ...spatial(x.shape, windowOf(ctx, kernel))];
}

const conv: ShapeRule = (_node, [x, w], ctx) => (x ? [typed(x.dtype, convShape(x, w, ctx))] : [null]);

const convInteger: ShapeRule = (_node, [x, w], ctx) => (x ? [typed('int32', convShape(x, w, ctx))] : [null]);

/** QLinearConv: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B. */
const qlinearConv: ShapeRule = (_node, inputs, ctx) => {
  const x = inputs[0];
  if (!x) return [null];
  return [typed(inputs[7]?.dtype ?? x.dtype, convShape(x, inputs[3], ctx))];
};

/**
 * com.microsoft QLinearConv with channels_last = 1 (ORT's NHWC transformer writes it): x and y
 * are [N, spatial..., C]; the weight stays [M, C / group, k...].
 */
const qlinearConvMaybeNhwc: ShapeRule = (node, inputs, ctx) => {
  const x = inputs[0];
  if (!x || ctx.int('channels_last', 0) !== 1 || !x.shape) return qlinearConv(node, inputs, ctx);
  const nchw = { ...x, shape: [x.shape[0], x.shape[x.shape.length - 1], ...x.shape.slice(1, -1)] };
  const out = convShape(nchw, inputs[3], ctx);
  const y = out ? [out[0], ...out.slice(2), out[1]] : null;
  return [typed(inputs[7]?.dtype ?? x.dtype, y)];
};

/**
 * com.microsoft.nchwc ops (onnxruntime/contrib_ops/cpu/nchwc_ops.cc), written by the NCHWc
 * transformer of a level-'all' session. Tensors keep rank 4 with the channels padded to the
 * MLAS block; the transformer pads a Conv's output channels in its reordered filter, so the
 * output's channels are the filter's dim 0, never checked against the input's.
 */
const nchwcConv: ShapeRule = (_node, [x, wt], ctx) => {
  if (!x) return [null];
  if (!x.shape || !wt?.shape) return [typed(x.dtype, x.shape ? unknownDims(x.shape.length) : null)];
  const kernel = ctx.ints('kernel_shape') ?? wt.shape.slice(2);
  return [typed(x.dtype, [x.shape[0], wt.shape[0], ...spatial(x.shape, windowOf(ctx, kernel))])];
};

/**
 * ReorderInput: NCHW (or NHWC with channels_last) -> NCHWc, [N, C, H, W]. The transformer inserts
 * it only where C is a multiple of the block size (nchwc_transformer.cc), so C is unchanged.
 */
const reorderInput: ShapeRule = (_node, [x], ctx) => {
  if (!x?.shape) return [x ? typed(x.dtype, null) : null];
  const s = x.shape;
  return [typed(x.dtype, ctx.int('channels_last', 0) === 1 ? [s[0], s[s.length - 1], ...s.slice(1, -1)] : s)];
};

/** ReorderOutput: NCHWc -> NCHW (or NHWC) with the `channels` attribute's unpadded count. */
const reorderOutput: ShapeRule = (_node, [x], ctx) => {
  if (!x?.shape) return [x ? typed(x.dtype, null) : null];
  const c = ctx.int('channels', 0);
  const s = x.shape;
  return [typed(x.dtype, ctx.int('channels_last', 0) === 1 ? [s[0], ...s.slice(2), c] : [s[0], c, ...s.slice(2)])];
};

/** nchwc Upsample: integer `scales` per axis (nearest or linear). */
const nchwcUpsample: ShapeRule = (_node, [x], ctx) => {
  if (!x?.shape) return [x ? typed(x.dtype, null) : null];
  const scales = ctx.ints('scales') ?? [];
  return [typed(x.dtype, x.shape.map((d, i) => (typeof d === 'number' ? d * (scales[i] ?? 1) : null)))];
};

const convTranspose: ShapeRule = (_node, [x, wt], ctx) => {
  if (!x) return [null];
  if (!x.shape || !wt?.shape) return [typed(x.dtype, x.shape ? unknownDims(x.shape.length) : null)];
  const group = ctx.int('group', 1);
  const n = x.shape.length - 2;
  sameDim(x.shape[1], wt.shape[0], 'ConvTranspose input channels differ from weight dim 0');
  const kernel = ctx.ints('kernel_shape') ?? wt.shape.slice(2);
  const w = windowOf(ctx, kernel);
  const outputPadding = ctx.ints('output_padding') ?? new Array<number>(n).fill(0);
  const outputShape = ctx.ints('output_shape');
  let dims: Dim[];
  if (outputShape) {
    dims = outputShape.length === n + 2 ? outputShape.slice(2) : outputShape;
  } else {
    dims = x.shape.slice(2).map((size, i) => {
      const k = kernel[i];
      if (typeof size !== 'number') return null;
      if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER') return size * w.strides[i];
      if (typeof k !== 'number') return null;
      const pads = w.autoPad === 'VALID' ? 0 : w.pads[i] + w.pads[i + n];
      return w.strides[i] * (size - 1) + outputPadding[i] + (k - 1) * w.dilations[i] + 1 - pads;
    });
  }
  return [typed(x.dtype, [x.shape[0], mulDim(wt.shape[1], group), ...dims])];
};

/** MaxPool / AveragePool / LpPool; MaxPool's second output holds int64 indices. */
const pool: ShapeRule = (_node, [x], ctx) => {
  if (!x) return [null, null];
  if (!x.shape) return [typed(x.dtype, null), typed('int64', null)];
  const kernel = ctx.ints('kernel_shape');
  if (!kernel) throw new ShapeError('pooling needs kernel_shape');
  if (kernel.length !== x.shape.length - 2) throw new ShapeError(`kernel_shape has ${kernel.length} dims for a ${x.shape.length}-D input`);
  const shape = [x.shape[0], x.shape[1], ...spatial(x.shape, windowOf(ctx, kernel))];
  return [typed(x.dtype, shape), typed('int64', shape)];
};

const globalPool: ShapeRule = (_node, [x]) => {
  if (!x) return [null];
  if (!x.shape) return [typed(x.dtype, null)];
  return [typed(x.dtype, x.shape.map((d, i) => (i < 2 ? d : 1)))];
};

/** RoiAlign: [num_rois, C, output_height, output_width]. */
const roiAlign: ShapeRule = (_node, [x, rois], ctx) => {
  if (!x) return [null];
  return [typed(x.dtype, [rois?.shape?.[0] ?? null, x.shape?.[1] ?? null, ctx.int('output_height', 1), ctx.int('output_width', 1)])];
};

/** GridSample: [N, C, *grid spatial]. */
const gridSample: ShapeRule = (_node, [x, grid]) => {
  if (!x) return [null];
  if (!grid?.shape) return [typed(x.dtype, x.shape ? unknownDims(x.shape.length) : null)];
  return [typed(x.dtype, [x.shape?.[0] ?? grid.shape[0], x.shape?.[1] ?? null, ...grid.shape.slice(1, -1)])];
};

/** DepthToSpace / SpaceToDepth with blocksize b. */
const depthToSpace: ShapeRule = (_node, [x], ctx) => {
  if (!x?.shape) return [x ? typed(x.dtype, null) : null];
  if (x.shape.length !== 4) throw new ShapeError(`DepthToSpace needs a 4-D input, got ${x.shape.length}-D`);
  const b = ctx.int('blocksize', 1);
  const [n, c, h, w] = x.shape;
  return [typed(x.dtype, [n, divDim(c, b * b), mulDim(h, b), mulDim(w, b)])];
};

const spaceToDepth: ShapeRule = (_node, [x], ctx) => {
  if (!x?.shape) return [x ? typed(x.dtype, null) : null];
  if (x.shape.length !== 4) throw new ShapeError(`SpaceToDepth needs a 4-D input, got ${x.shape.length}-D`);
  const b = ctx.int('blocksize', 1);
  const [n, c, h, w] = x.shape;
  return [typed(x.dtype, [n, mulDim(c, b * b), divDim(h, b), divDim(w, b)])];
};

export const convPoolRules: RuleTable = {
  '': {
    Conv: conv,
    ConvInteger: convInteger,
    QLinearConv: qlinearConv,
    ConvTranspose: convTranspose,
    MaxPool: pool,
    AveragePool: pool,
    LpPool: pool,
    GlobalAveragePool: globalPool,
    GlobalMaxPool: globalPool,
    GlobalLpPool: globalPool,
    RoiAlign: roiAlign,
    GridSample: gridSample,
    DepthToSpace: depthToSpace,
    SpaceToDepth: spaceToDepth,
  },
  'com.microsoft': {
    FusedConv: conv,
    QLinearConv: qlinearConvMaybeNhwc,
  },
  'com.microsoft.nchwc': {
    Conv: nchwcConv,
    ReorderInput: reorderInput,
    ReorderOutput: reorderOutput,
    MaxPool: pool,
    AveragePool: pool,
    GlobalAveragePool: globalPool,
    GlobalMaxPool: globalPool,
    Upsample: nchwcUpsample,
  },
};
