// Normalisation layers: the output keeps the input's type; statistics outputs (mean, inverse
// std-dev, running mean/var) have the reduced shapes each operator defines.
import type { DType, Dim } from '../../graph';
import type { RuleTable, ShapeRule } from '../types';
import { dtypeFromCode } from '../../onnx/dtype-codes';
import { like, typed } from './util';
import { normAxis } from '../dim-math';

/**
 * BatchNormalization. Opset >= 14: Y, running_mean, running_var (training_mode);
 * opsets 9-13: Y, mean, var, saved_mean, saved_var. Statistics are [C].
 */
const batchNorm: ShapeRule = (node, [x, scale, _b, mean]) => {
  if (!x) return node.outputs.map(() => null);
  const c: Dim = x.shape && x.shape.length > 1 ? x.shape[1] : scale?.shape?.[0] ?? null;
  const statDType = mean?.dtype ?? scale?.dtype ?? x.dtype;
  return node.outputs.map((_o, i) => (i === 0 ? like(x) : typed(statDType, [c])));
};

/** Shape of per-row statistics: dims from `axis` on become 1. */
function statShape(shape: Dim[] | null, axis: number): Dim[] | null {
  if (!shape) return null;
  const a = normAxis(axis, shape.length);
  return shape.map((d, i) => (i < a ? d : 1));
}

/** LayerNormalization (Y, Mean, InvStdDev) and SimplifiedLayerNormalization (Y, InvStdVar). */
const layerNorm: ShapeRule = (node, [x], ctx) => {
  if (!x) return node.outputs.map(() => null);
  const stash: DType = dtypeFromCode(ctx.int('stash_type', 1));
  const stats = typed(stash, statShape(x.shape, ctx.int('axis', -1)));
  return node.outputs.map((_o, i) => (i === 0 ? like(x) : stats));
};

/**
 * com.microsoft SkipLayerNormalization / SkipSimplifiedLayerNormalization:
 * output, mean, inv_std_var ([..., 1], float), input_skip_bias_sum (same as input).
 */
const skipLayerNorm: ShapeRule = (node, [x]) => {
  if (!x) return node.outputs.map(() => null);
  const stats = typed('float32', statShape(x.shape, -1));
  return node.outputs.map((_o, i) => (i === 0 || i === 3 ? like(x) : stats));
};

/** com.microsoft EmbedLayerNormalization: output [B, S, H], mask_index [B] int32, embedding_sum. */
const embedLayerNorm: ShapeRule = (node, [ids, _seg, wordEmb]) => {
  if (!ids?.shape) return node.outputs.map(() => null);
  const hidden = wordEmb?.shape?.[1] ?? null;
  const out = typed(wordEmb?.dtype ?? 'float32', [ids.shape[0], ids.shape[1] ?? null, hidden]);
  return node.outputs.map((_o, i) => (i === 1 ? typed('int32', [ids.shape![0]]) : out));
};

const sameAsInput: ShapeRule = (node, [x]) => node.outputs.map((_o, i) => (i === 0 ? like(x) : null));

export const normalizationRules: RuleTable = {
  '': {
    BatchNormalization: batchNorm,
    LayerNormalization: layerNorm,
    // ONNX Runtime registers SimplifiedLayerNormalization in the ONNX domain.
    SimplifiedLayerNormalization: layerNorm,
    RMSNormalization: sameAsInput,
    GroupNormalization: sameAsInput,
    InstanceNormalization: sameAsInput,
    LRN: sameAsInput,
  },
  'com.microsoft': {
    SkipLayerNormalization: skipLayerNorm,
    SkipSimplifiedLayerNormalization: skipLayerNorm,
    SimplifiedLayerNormalization: layerNorm,
    LayerNormalization: layerNorm,
    EmbedLayerNormalization: embedLayerNorm,
    GroupNorm: sameAsInput,
    SkipGroupNorm: (node, [x]) => node.outputs.map(() => like(x)),
  },
};
