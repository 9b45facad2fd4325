// PyTorch's CPU convolution through oneDNN (aten::mkldnn_convolution, torch 1.13's ideep path in
// aten/src/ATen/native/mkldnn/Conv.cpp): the dense input and weight are reordered into oneDNN's
// blocked layout, the result is computed blocked and copied out to a dense tensor. Measured with
// the profiler's allocation events, one call allocates, in order: +input, +weight, +result
// (blocked), -weight, -input, +result (dense), -blocked result. Beyond its dense output the call
// holds, at its own peak, max(input + weight, output) bytes for the length of the op.
//
// Which convolutions take the path is ConvUtils.h's use_mkldnn (float32 on CPU): a 1x1 kernel
// with stride 1 and no dilation on a batch under 16 runs aten::thnn_conv2d instead, which
// allocates only its output.
import type { InferredTensor } from '../shapes/types';
import type { Buffer } from './buffer-types';
import type { TensorTable } from './tensor-table';

const ints = (v: { kind: string; value?: unknown } | undefined): number[] => (v?.kind === 'ints' ? (v.value as number[]) : []);

/** Whether torch 1.13 runs this 2-D float32 Conv node as aten::mkldnn_convolution. */
function usesMkldnn(kernel: number[], strides: number[], dilations: number[], batch: number): boolean {
  const pointwise = kernel.every((k) => k === 1) && strides.every((s) => s === 1) && dilations.every((d) => d === 1);
  return !pointwise || batch >= 16;
}

/** One workspace per oneDNN convolution of a PyTorch model's inference on CPU. */
export function mkldnnConvWorkspaces(table: TensorTable, shapes: Map<string, InferredTensor>): Buffer[] {
  const out: Buffer[] = [];
  table.nodes.forEach((node, pos) => {
    if (node.opType !== 'Conv' || node.domain !== '') return;
    const x = shapes.get(node.inputs[0]), w = shapes.get(node.inputs[1]);
    const xRec = table.tensors.get(node.inputs[0]), wRec = table.tensors.get(node.inputs[1]), yRec = table.tensors.get(node.outputs[0]);
    if (!x?.shape || !w?.shape || x.dtype !== 'float32' || x.shape.length !== 4 || !xRec || !wRec || !yRec) return;
    const batch = x.shape[0], kernel = w.shape.slice(2);
    if (typeof batch !== 'number' || !kernel.every((k): k is number => typeof k === 'number')) return;
    if (!usesMkldnn(kernel, ints(node.attributes.strides), ints(node.attributes.dilations), batch)) return;
    const bytes = Math.max(xRec.bytes + wRec.bytes, yRec.bytes);
    out.push({ bytes, category: 'activations', start: pos, end: pos, owner: { kind: 'node', pos }, persistent: false, kind: 'workspace', use: { kind: 'mkldnn-conv', node: pos } });
  });
  return out;
}
