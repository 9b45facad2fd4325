// PyTorch's views: ops whose result shares its input's storage (aten transpose/permute, view,
// squeeze/unsqueeze, expand, slice/narrow/split). In training the memory model follows PyTorch,
// so these outputs take no bytes of their own, and a saved view keeps its base's storage alive
// (autograd saves the view; the storage is the base's).
//
// A reshape is a view only when the strides allow it. The exporter drops `.contiguous()` and
// writes `reshape`/`view` alike as Reshape, so each tensor's strides are followed here and a
// Reshape is a view exactly when aten's computeStride (aten/src/ATen/TensorUtils.cpp) finds
// strides for the new shape; otherwise PyTorch copies (reshape's clone, or the script's
// `.contiguous()` before a view).
import type { InferredTensor } from '../shapes/types';
import type { GraphNode } from '../graph';
import type { TensorTable } from './tensor-table';
import { constantScalars } from './torch-ops';

const VIEW_OPS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Transpose', 'Expand', 'Slice', 'Split']);

/** View tensor -> the tensor whose storage it shares (its input, itself maybe a view). */
export type TorchViews = Map<string, string>;

/** Row-major strides of a dense tensor of `shape`. */
export const contiguousStrides = (shape: number[]): number[] => {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i];
  }
  return out;
};

/** aten::detail::computeStride: strides of `newShape` over the same storage, or null when no view can have it. */
export function computeStride(oldShape: number[], oldStride: number[], newShape: number[]): number[] | null {
  if (oldShape.length === 0) return newShape.map(() => 1);
  const numel = oldShape.reduce((a, d) => a * d, 1);
  if (numel === 0) return oldShape.length === newShape.length && oldShape.every((d, i) => d === newShape[i]) ? oldStride : null;
  const newStride = new Array<number>(newShape.length).fill(0);
  let viewD = newShape.length - 1;
  let chunkBase = oldStride[oldStride.length - 1];
  let tensorNumel = 1, viewNumel = 1;
  for (let d = oldShape.length - 1; d >= 0; d--) {
    tensorNumel *= oldShape[d];
    if (d === 0 || (oldShape[d - 1] !== 1 && oldStride[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        newStride[viewD] = viewNumel * chunkBase;
        viewNumel *= newShape[viewD];
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = oldStride[d - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  return viewD === -1 ? newStride : null;
}

function numericShape(t: InferredTensor | undefined): number[] | null {
  if (!t?.shape || t.sequence) return null;
  const shape = t.shape;
  return shape.every((d): d is number => typeof d === 'number') ? shape : null;
}

const axisOf = (a: number, rank: number) => (a < 0 ? a + rank : a);

/** Strides of a view's output from its input's, or null when the op copies (or is not known well enough: then a view). */
function viewStrides(op: string, inShape: number[], inStride: number[], outShape: number[], ints: (i: number) => number[] | undefined, attr: (n: string) => number[] | undefined): number[] | null | 'unknown' {
  switch (op) {
    case 'Identity': case 'Split': return inStride;
    case 'Transpose': {
      const perm = attr('perm') ?? inShape.map((_, i) => inShape.length - 1 - i);
      return perm.map((p) => inStride[p]);
    }
    case 'Slice': {
      const axes = ints(3) ?? inShape.map((_, i) => i);
      const steps = ints(4) ?? axes.map(() => 1);
      const out = [...inStride];
      axes.forEach((a, i) => { out[axisOf(a, inShape.length)] *= steps[i] ?? 1; });
      return out;
    }
    case 'Expand': {
      const lead = outShape.length - inShape.length;
      return outShape.map((d, i) => (i < lead ? 0 : inShape[i - lead] === 1 && d !== 1 ? 0 : inStride[i - lead]));
    }
    case 'Squeeze': case 'Unsqueeze': case 'Reshape': case 'Flatten':
      // Squeeze/Unsqueeze only drop or add size-1 dims, which computeStride always places.
      return computeStride(inShape, inStride, outShape);
  }
  return 'unknown';
}

/**
 * Nodes whose PyTorch op returns its very input tensor: `.to(dtype)` to the dtype it already has
 * (aten TensorConversions.cpp to_impl: to_will_alias returns self), and dropout at p = 0
 * (aten Dropout.cpp _dropout_impl: `if (p == 0 || !train || input.numel() == 0) return input`).
 * The exporter still writes a Cast or a Dropout; its output is the input's storage.
 */
function returnsItsInput(node: GraphNode, shapes: Map<string, InferredTensor>, scalars: Map<string, number>): boolean {
  if (node.opType === 'Cast') {
    const from = shapes.get(node.inputs[0])?.dtype, to = shapes.get(node.outputs[0])?.dtype;
    return from !== undefined && from === to;
  }
  return node.opType === 'Dropout' && node.inputs[1] !== undefined && scalars.get(node.inputs[1]) === 0;
}

/** Which outputs are views of their input in PyTorch, in one pass over the execution order. */
export function torchViews(table: TensorTable, shapes: Map<string, InferredTensor>): TorchViews {
  const views: TorchViews = new Map();
  const strides = new Map<string, number[]>();
  const stridesOf = (name: string, shape: number[]) => strides.get(name) ?? contiguousStrides(shape);
  const scalars = constantScalars(table);
  for (const node of table.nodes) {
    const input = node.inputs[0];
    if (input && returnsItsInput(node, shapes, scalars)) {
      views.set(node.outputs[0], input);
      if (strides.has(input)) strides.set(node.outputs[0], strides.get(input) as number[]);
      continue;
    }
    if (!VIEW_OPS.has(node.opType) || !input) continue;
    const inShape = numericShape(shapes.get(input));
    for (const output of node.outputs.filter(Boolean)) {
      const outShape = numericShape(shapes.get(output));
      if (!inShape || !outShape) {
        views.set(output, input); // shapes unknown: a view, as the op usually is
        continue;
      }
      const ints = (i: number) => (node.inputs[i] ? shapes.get(node.inputs[i])?.value : undefined);
      const attr = (n: string) => { const a = node.attributes[n]; return a?.kind === 'ints' ? a.value : undefined; };
      const s = viewStrides(node.opType, inShape, stridesOf(input, inShape), outShape, ints, attr);
      if (s === null) continue; // a copy with its own contiguous storage
      views.set(output, input);
      if (s !== 'unknown') strides.set(output, s);
    }
  }
  return views;
}

/** The tensor whose storage `name` shares in PyTorch: itself unless it is a view, else its base's root. */
export function storageRoot(views: TorchViews, name: string): string {
  let current = name;
  for (let guard = 0; guard <= views.size; guard++) {
    const base = views.get(current);
    if (base === undefined) return current;
    current = base;
  }
  return current;
}
