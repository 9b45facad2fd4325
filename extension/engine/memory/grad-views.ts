// Parameter gradients that PyTorch keeps as a view of a larger gradient. CatBackward0 returns
// each input's gradient as `grad.narrow(dim, offset, size)` of the cat's output gradient, and the
// backward of a view (expand at an equal shape: sum_to returns its input; view/reshape,
// squeeze/unsqueeze, transpose) is a view again. AccumulateGrad (torch/csrc/autograd/functions/
// accumulate_grad.h, accumulateGrad) steals the incoming gradient instead of copying it when the
// parameter has no .grad yet, grad mode is off, nothing else references it and it obeys the
// gradient layout contract (torch/csrc/autograd/utils/grad_layout_contract.h): then `.grad` is that
// view, and the whole storage of the cat's gradient lives as long as `.grad` does. A ViT's class
// token, `torch.cat([class_token.expand(n, -1, -1), x], dim=1)`, is one at batch 1; at batch > 1
// ExpandBackward0 sums into a fresh tensor and nothing is kept.
import type { GraphNode } from '../graph';
import type { InferredTensor } from '../shapes/types';
import type { TensorTable } from './tensor-table';
import { computeStride, contiguousStrides, type TorchViews } from './torch-views';

/** A parameter whose `.grad` is a view of `base`'s gradient (the cat's output), made at the cat's backward. */
export interface StolenGradient {
  parameter: string;
  /** The Concat output whose gradient's storage `.grad` keeps. */
  base: string;
  /** Forward position of that Concat. */
  concat: number;
}

/** One forward link from the parameter towards the cat: a view op and its shapes. */
interface Link { node: GraphNode; inShape: number[]; outShape: number[] }

const numericShape = (t: InferredTensor | undefined): number[] | null =>
  t?.shape && !t.sequence && t.shape.every((d): d is number => typeof d === 'number') ? t.shape : null;

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Strides of the gradient a view op's backward hands its input, from its output gradient's
 * (derivatives.yaml: expand sum_to, view/reshape/squeeze/unsqueeze reshape, transpose transpose),
 * or null when that backward makes a fresh tensor (a sum, a reshape that must copy).
 */
function backwardStrides(link: Link, outStride: number[]): number[] | null {
  const { node, inShape, outShape } = link;
  switch (node.opType) {
    case 'Identity': case 'Cast': case 'Dropout': return outStride; // the same tensor (torch-views.ts returnsItsInput)
    case 'Expand': return sameShape(inShape, outShape) ? outStride : null;
    case 'Squeeze': case 'Unsqueeze': case 'Reshape': case 'Flatten': return computeStride(outShape, outStride, inShape);
    case 'Transpose': {
      const a = node.attributes.perm;
      const perm = a?.kind === 'ints' ? a.value : inShape.map((_, i) => inShape.length - 1 - i);
      const out = new Array<number>(inShape.length);
      perm.forEach((p, i) => { out[p] = outStride[i]; });
      return out;
    }
  }
  return null;
}

/**
 * grad_layout_contract.h obeys_layout_contract for a dense parameter (contiguous): every dim of
 * size other than 1 has the parameter's stride; a size-1 dim any stride but 0.
 */
export function obeysLayoutContract(shape: number[], stride: number[]): boolean {
  const want = contiguousStrides(shape);
  return shape.every((d, i) => (d === 1 ? stride[i] !== 0 : stride[i] === want[i]));
}

/** The only node reading `name`, reading it once; else null (two gradients would be summed into a fresh one). */
function soleReader(table: TensorTable, name: string): GraphNode | null {
  const rec = table.tensors.get(name);
  if (!rec || rec.isGraphOutput || new Set(rec.consumers).size !== 1) return null;
  const node = table.nodes[rec.consumers[0]];
  return node.inputs.filter((x) => x === name).length === 1 ? node : null;
}

/** From a parameter along its sole readers through views to a Concat: the links and the Concat's position, or null. */
function pathToConcat(table: TensorTable, shapes: Map<string, InferredTensor>, views: TorchViews, parameter: string): { links: Link[]; concat: number } | null {
  const links: Link[] = [];
  let current = parameter;
  for (let guard = 0; guard <= table.nodes.length; guard++) {
    const node = soleReader(table, current);
    if (!node) return null;
    if (node.opType === 'Concat') return { links, concat: table.tensors.get(current)?.consumers[0] ?? -1 };
    const output = node.outputs[0];
    const inShape = numericShape(shapes.get(current)), outShape = numericShape(shapes.get(output));
    if (!output || node.inputs[0] !== current || views.get(output) !== current || !inShape || !outShape) return null;
    links.push({ node, inShape, outShape });
    current = output;
  }
  return null;
}

/**
 * The parameters whose `.grad` PyTorch keeps as a view of a Concat's output gradient. That
 * gradient is taken as dense (contiguous in the Concat output's shape), as the backward of the op
 * reading the Concat's output makes it.
 */
export function stolenGradients(table: TensorTable, shapes: Map<string, InferredTensor>, views: TorchViews, trainable: Set<string>): StolenGradient[] {
  const out: StolenGradient[] = [];
  for (const parameter of trainable) {
    const rec = table.tensors.get(parameter);
    const parameterShape = numericShape(shapes.get(parameter));
    if (!rec || rec.producer !== null || !parameterShape || rec.elements === 0) continue;
    const path = pathToConcat(table, shapes, views, parameter);
    if (!path) continue;
    const base = table.nodes[path.concat].outputs[0];
    const baseShape = numericShape(shapes.get(base));
    if (!base || !baseShape) continue;
    // The narrow view of the cat's gradient: the input's sizes, the base's strides.
    let stride: number[] | null = contiguousStrides(baseShape);
    for (let i = path.links.length - 1; i >= 0 && stride; i--) stride = backwardStrides(path.links[i], stride);
    if (stride && obeysLayoutContract(parameterShape, stride)) out.push({ parameter, base, concat: path.concat });
  }
  return out;
}
