// Forward FLOPs per node, standard counting (one multiply-add = 2 FLOPs):
//   MatMul / Gemm 2·M·N·K; Conv 2·|output|·(Cin/groups)·kh·kw; fused attention 4·B·H·T·S·d;
//   element-wise and reductions: one per output element (per input element for reductions);
//   shape-only ops 0. Used for the recompute share of checkpointing, not for time estimates.
import { elementCount, type GraphNode } from '../graph';
import type { InferredTensor } from '../shapes/types';

const SHAPE_ONLY = new Set([
  'Shape', 'Size', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Constant', 'ConstantOfShape',
  'Transpose', 'Expand', 'Slice', 'Gather', 'Concat', 'Split', 'Cast', 'Range', 'Dropout',
]);
const REDUCTIONS = /^(Reduce|Softmax|LogSoftmax|LayerNormalization|SimplifiedLayerNormalization|RMSNormalization|GlobalAveragePool|GlobalMaxPool)/;

export type ShapeOf = (name: string) => InferredTensor | undefined;

const elements = (t: InferredTensor | undefined): number => elementCount(t?.shape ?? null) ?? 0;
const dim = (t: InferredTensor | undefined, i: number): number => {
  const s = t?.shape;
  if (!s) return 0;
  const d = s[i < 0 ? s.length + i : i];
  return typeof d === 'number' ? d : 0;
};

export function nodeFlops(node: GraphNode, shape: ShapeOf): number {
  const out = shape(node.outputs[0] ?? '');
  const a = shape(node.inputs[0] ?? '');
  switch (node.opType) {
    case 'MatMul':
    case 'MatMulInteger':
      return 2 * elements(out) * dim(a, -1);
    case 'Gemm': {
      const transA = node.attributes.transA?.kind === 'int' && node.attributes.transA.value === 1;
      return 2 * elements(out) * (transA ? dim(a, 0) : dim(a, 1));
    }
    case 'MatMulNBits': {
      const k = node.attributes.K?.kind === 'int' ? node.attributes.K.value : dim(a, -1);
      return 2 * elements(out) * k;
    }
    case 'Conv':
    case 'ConvTranspose': {
      const w = shape(node.inputs[1] ?? '');
      const groups = node.attributes.group?.kind === 'int' ? node.attributes.group.value : 1;
      const kernel = (w?.shape ?? []).slice(2).reduce<number>((p, d) => p * (typeof d === 'number' ? d : 0), 1);
      const cin = node.opType === 'Conv' ? dim(w, 1) : dim(w, 0) / groups;
      return 2 * elements(out) * cin * kernel;
    }
    case 'MultiHeadAttention':
    case 'Attention':
    case 'GroupQueryAttention': {
      // QKᵀ and PV: 2·(B·H·T·S·d) each; with q [B, T, H·d] and keys [B, H, S, d] or [B, S, H·d].
      const k = shape(node.inputs[1] ?? '');
      const s = k?.shape?.length === 4 ? dim(k, 2) : dim(k, 1);
      return 4 * elements(a) * s;
    }
    default:
      if (SHAPE_ONLY.has(node.opType)) return 0;
      if (REDUCTIONS.test(node.opType)) return elements(a);
      return elements(out);
  }
}
