// Resize and Upsample: output sizes from `sizes`, or floor(input x scale).
import type { Dim } from '../../graph';
import type { RuleTable, ShapeRule } from '../types';
import { unknownDims } from '../dim-math';
import { ShapeError } from '../shape-error';
import { typed } from './util';

function scaled(shape: Dim[], scales: number[], axes: number[]): Dim[] {
  const out = shape.slice();
  axes.forEach((a, i) => {
    const d = shape[a];
    out[a] = typeof d === 'number' ? Math.floor(d * scales[i]) : scales[i] === 1 ? d : null;
  });
  return out;
}

/** Resize (opset >= 11): X, roi, scales, sizes; `axes` and keep_aspect_ratio_policy from opset 18. */
const resize: ShapeRule = (_node, inputs, ctx) => {
  const x = inputs[0];
  if (!x) return [null];
  if (!x.shape) return [typed(x.dtype, null)];
  const rank = x.shape.length;
  if (ctx.opset < 11) {
    const scales = inputs[1]?.value;
    return [typed(x.dtype, scales ? scaled(x.shape, scales, scales.map((_s, i) => i)) : unknownDims(rank))];
  }
  const axes = (ctx.ints('axes') ?? Array.from({ length: rank }, (_v, i) => i)).map((a) => (a < 0 ? a + rank : a));
  const sizes = inputs[3]?.value;
  const scales = inputs[2]?.value;
  if (sizes && sizes.length > 0) {
    if (sizes.length !== axes.length) throw new ShapeError(`Resize sizes has ${sizes.length} values for ${axes.length} axes`);
    const policy = ctx.string('keep_aspect_ratio_policy', 'stretch');
    const out = x.shape.slice();
    if (policy === 'stretch') {
      axes.forEach((a, i) => { out[a] = sizes[i]; });
      return [typed(x.dtype, out)];
    }
    // not_larger / not_smaller: one scale for all axes, then round half up (ONNX spec).
    const dims = axes.map((a) => x.shape![a]);
    if (dims.some((d) => typeof d !== 'number')) return [typed(x.dtype, x.shape.map((d, i) => (axes.includes(i) ? null : d)))];
    const ratios = axes.map((_a, i) => sizes[i] / (dims[i] as number));
    const scale = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
    axes.forEach((a, i) => { out[a] = Math.floor((dims[i] as number) * scale + 0.5); });
    return [typed(x.dtype, out)];
  }
  if (scales && scales.length > 0) {
    if (scales.length !== axes.length) throw new ShapeError(`Resize scales has ${scales.length} values for ${axes.length} axes`);
    return [typed(x.dtype, scaled(x.shape, scales, axes))];
  }
  return [typed(x.dtype, x.shape.map((d, i) => (axes.includes(i) ? null : d)))];
};

/** Upsample: scales attribute (opset 7-8) or input (opset 9). */
const upsample: ShapeRule = (_node, [x, s], ctx) => {
  if (!x) return [null];
  if (!x.shape) return [typed(x.dtype, null)];
  const scales = ctx.floats('scales') ?? s?.value;
  if (!scales) return [typed(x.dtype, unknownDims(x.shape.length))];
  return [typed(x.dtype, scaled(x.shape, scales, scales.map((_v, i) => i)))];
};

export const resizeRules: RuleTable = { '': { Resize: resize, Upsample: upsample } };
