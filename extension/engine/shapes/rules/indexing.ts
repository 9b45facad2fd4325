// Operators that select, join or split along axes: Slice, Gather*, Concat, Split, Pad, OneHot,
// and the data-dependent ones (NonZero, Compress, Unique, NonMaxSuppression).
import type { Dim } from '../../graph';
import type { InferredTensor, RuleTable, ShapeRule } from '../types';
import { addDim, fmtShape, isKnownShape, normAxis, sameDim, unknownDims } from '../dim-math';
import { MAX_FOLDED_ELEMENTS, count, pickValues, range, rowStrides, tensor } from '../fold';
import { ShapeError } from '../shape-error';
import { listParam, normAxes, scalarOf, typed } from './util';

/** Indices Slice takes along one axis of length `dim` (ONNX clamping rules, negative steps). */
export function sliceIndices(dim: number, start: number, end: number, step: number): { length: number; first: number } {
  if (step === 0) throw new ShapeError('Slice step is 0');
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
    return { length: Math.max(0, Math.ceil((e - s) / step)), first: s };
  }
  s = Math.min(Math.max(s, 0), dim - 1);
  e = Math.min(Math.max(e, -1), dim - 1);
  return { length: Math.max(0, Math.ceil((s - e) / -step)), first: s };
}

const slice: ShapeRule = (_node, inputs, ctx) => {
  const x = inputs[0];
  if (!x) return [null];
  if (!x.shape) return [typed(x.dtype, null)];
  const rank = x.shape.length;
  const starts = listParam(inputs, 1, ctx, 'starts');
  const ends = listParam(inputs, 2, ctx, 'ends');
  const axesP = listParam(inputs, 3, ctx, 'axes');
  const stepsP = listParam(inputs, 4, ctx, 'steps');
  if (axesP.kind === 'unknown') return [typed(x.dtype, unknownDims(rank))];
  const n = starts.kind === 'given' ? starts.values.length : ends.kind === 'given' ? ends.values.length : null;
  if (axesP.kind === 'given') normAxes(axesP.values, rank); // range and duplicates check
  // Axes in the order given: starts/ends/steps line up with them.
  const rawAxes = axesP.kind === 'given' ? axesP.values.map((a) => (a < 0 ? a + rank : a)) : n !== null ? range(n) : null;
  const shape = x.shape.slice();
  if (!rawAxes || starts.kind !== 'given' || ends.kind !== 'given' || stepsP.kind === 'unknown') {
    if (!rawAxes) return [typed(x.dtype, unknownDims(rank))];
    for (const a of rawAxes) shape[a] = null;
    return [typed(x.dtype, shape)];
  }
  const steps = stepsP.kind === 'given' ? stepsP.values : null;
  if (starts.values.length !== rawAxes.length || ends.values.length !== rawAxes.length || (steps && steps.length !== rawAxes.length)) {
    throw new ShapeError('Slice starts, ends, axes and steps differ in length');
  }
  const picks: number[][] | null = isKnownShape(x.shape) && x.value ? x.shape.map((d) => range(d)) : null;
  rawAxes.forEach((a, i) => {
    const dim = shape[a];
    if (typeof dim !== 'number') {
      shape[a] = null;
      return;
    }
    const step = steps ? steps[i] : 1;
    const { length, first } = sliceIndices(dim, starts.values[i], ends.values[i], step);
    shape[a] = length;
    if (picks) picks[a] = Array.from({ length }, (_v, k) => first + k * step);
  });
  return [tensor(x.dtype, shape, picks ? pickValues(x.value!, x.shape as number[], picks) : undefined)];
};

const gather: ShapeRule = (_node, [data, indices], ctx) => {
  if (!data) return [null];
  if (!data.shape || !indices?.shape) return [typed(data.dtype, null)];
  const axis = normAxis(ctx.int('axis', 0), data.shape.length);
  const shape = [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)];
  let value: number[] | undefined;
  if (data.value && indices.value && isKnownShape(data.shape) && isKnownShape(shape) && count(shape) <= MAX_FOLDED_ELEMENTS) {
    const dims = data.shape;
    const axisLen = dims[axis];
    const inner = count(dims.slice(axis + 1));
    const outer = count(dims.slice(0, axis));
    value = [];
    for (let o = 0; o < outer; o++) {
      for (const raw of indices.value) {
        const i = raw < 0 ? raw + axisLen : raw;
        if (i < 0 || i >= axisLen) throw new ShapeError(`Gather index ${raw} is out of range for axis of size ${axisLen}`);
        const base = (o * axisLen + i) * inner;
        for (let k = 0; k < inner; k++) value.push(data.value[base + k]);
      }
    }
  }
  return [tensor(data.dtype, shape, value)];
};

const gatherElements: ShapeRule = (_node, [data, indices]) => {
  if (!data) return [null];
  return [typed(data.dtype, indices?.shape ?? null)];
};

/** GatherND: indices.shape[:-1] + data.shape[batch_dims + indices.shape[-1]:]. */
const gatherND: ShapeRule = (_node, [data, indices], ctx) => {
  if (!data) return [null];
  if (!data.shape || !indices?.shape || indices.shape.length === 0) return [typed(data.dtype, null)];
  const last = indices.shape[indices.shape.length - 1];
  if (typeof last !== 'number') return [typed(data.dtype, null)];
  const b = ctx.int('batch_dims', 0);
  return [typed(data.dtype, [...indices.shape.slice(0, -1), ...data.shape.slice(b + last)])];
};

const concat: ShapeRule = (_node, inputs, ctx) => {
  const present = inputs.filter((t): t is InferredTensor => t !== undefined);
  if (present.length === 0) return [null];
  const dtype = present.find((t) => t.dtype !== 'undefined')?.dtype ?? 'undefined';
  const ranked = present.find((t) => t.shape !== null);
  if (!ranked?.shape) return [typed(dtype, null)];
  const rank = ranked.shape.length;
  const axis = normAxis(ctx.int('axis', 0), rank);
  const shape: Dim[] = ranked.shape.slice();
  shape[axis] = 0;
  for (const t of present) {
    if (!t.shape) {
      shape[axis] = null;
      continue;
    }
    if (t.shape.length !== rank) throw new ShapeError(`Concat inputs have ranks ${rank} and ${t.shape.length}`);
    for (let i = 0; i < rank; i++) {
      if (i === axis) shape[i] = addDim(shape[i], t.shape[i]);
      else shape[i] = sameDim(shape[i], t.shape[i], () => `Concat inputs differ on axis ${i} (${fmtShape(ranked.shape)} vs ${fmtShape(t.shape)})`);
    }
  }
  let value: number[] | undefined;
  if (present.every((t) => t.value && isKnownShape(t.shape)) && isKnownShape(shape) && count(shape) <= MAX_FOLDED_ELEMENTS) {
    const outer = count(shape.slice(0, axis));
    value = [];
    for (let o = 0; o < outer; o++) {
      for (const t of present) {
        const chunk = count((t.shape as number[]).slice(axis));
        for (let k = 0; k < chunk; k++) value.push(t.value![o * chunk + k]);
      }
    }
  }
  return [tensor(dtype, shape, value)];
};

/** Split sizes: `split` input (opset >= 13) or attribute, num_outputs (opset 18), else equal parts. */
const split: ShapeRule = (node, inputs, ctx) => {
  const x = inputs[0];
  const n = node.outputs.length;
  if (!x) return node.outputs.map(() => null);
  if (!x.shape) return node.outputs.map(() => typed(x.dtype, null));
  const axis = normAxis(ctx.int('axis', 0), x.shape.length);
  const dim = x.shape[axis];
  const given = listParam(inputs, 1, ctx, 'split');
  let sizes: (number | null)[];
  if (given.kind === 'given') {
    if (given.values.length !== n) throw new ShapeError(`split has ${given.values.length} sizes for ${n} outputs`);
    if (typeof dim === 'number' && given.values.reduce((a, b) => a + b, 0) !== dim) {
      throw new ShapeError(`split sizes [${given.values.join(',')}] do not add up to ${dim}`);
    }
    sizes = given.values;
  } else if (given.kind === 'unknown' || typeof dim !== 'number') {
    sizes = new Array<null>(n).fill(null);
  } else {
    const parts = ctx.int('num_outputs', n);
    const chunk = Math.ceil(dim / parts); // uneven: the last part is smaller (opset 18)
    sizes = Array.from({ length: n }, (_v, i) => (i < parts - 1 ? chunk : dim - chunk * (parts - 1)));
  }
  let offset = 0;
  return sizes.map((size) => {
    const shape = x.shape!.slice();
    shape[axis] = size;
    let value: number[] | undefined;
    if (x.value && x.shape!.length === 1 && size !== null) value = x.value.slice(offset, offset + size);
    offset += size ?? 0;
    return tensor(x.dtype, shape, value);
  });
};

/** Pad: pads (attribute before opset 11, then an input), axes input from opset 18. */
const pad: ShapeRule = (_node, inputs, ctx) => {
  const x = inputs[0];
  if (!x) return [null];
  if (!x.shape) return [typed(x.dtype, null)];
  const rank = x.shape.length;
  // Pad-1 called the attribute `paddings`.
  const pads = ctx.opset < 2 && !inputs[1] ? listParam(inputs, 1, ctx, 'paddings') : listParam(inputs, 1, ctx, 'pads');
  const axesP = listParam(inputs, 3, ctx, '');
  if (axesP.kind === 'unknown') return [typed(x.dtype, unknownDims(rank))];
  const axes = axesP.kind === 'given' ? axesP.values.map((a) => normAxis(a, rank)) : range(rank);
  const shape = x.shape.slice();
  if (pads.kind !== 'given') {
    for (const a of axes) shape[a] = null;
    return [typed(x.dtype, shape)];
  }
  if (pads.values.length !== 2 * axes.length) throw new ShapeError(`pads has ${pads.values.length} values for ${axes.length} axes`);
  axes.forEach((a, i) => {
    shape[a] = addDim(addDim(shape[a], pads.values[i]), pads.values[i + axes.length]);
  });
  return [typed(x.dtype, shape)];
};

/** OneHot: depth inserted at `axis` of the indices' shape; dtype of `values`. */
const oneHot: ShapeRule = (_node, [indices, depth, values], ctx) => {
  if (!indices) return [null];
  const dtype = values?.dtype ?? 'float32';
  if (!indices.shape) return [typed(dtype, null)];
  const rank = indices.shape.length + 1;
  const axis = normAxis(ctx.int('axis', -1), rank);
  const d = scalarOf(depth);
  const shape: Dim[] = indices.shape.slice();
  shape.splice(axis, 0, d === undefined ? null : Math.trunc(d));
  return [typed(dtype, shape)];
};

/** NonZero: [rank, count of non-zeros]; known only when the input's values are. */
const nonZero: ShapeRule = (_node, [x]) => {
  if (!x) return [null];
  if (!x.shape) return [typed('int64', [null, null])];
  if (!x.value || !isKnownShape(x.shape)) return [typed('int64', [x.shape.length, null])];
  const strides = rowStrides(x.shape);
  const hits: number[] = [];
  x.value.forEach((v, i) => { if (v !== 0) hits.push(i); });
  const value: number[] = [];
  for (let a = 0; a < x.shape.length; a++) for (const i of hits) value.push(Math.floor(i / strides[a]) % x.shape[a]);
  return [tensor('int64', [x.shape.length, hits.length], value)];
};

/** Compress: as many slices as the condition has true values (data-dependent unless folded). */
const compress: ShapeRule = (_node, [x, cond], ctx) => {
  if (!x) return [null];
  const kept = cond?.value ? cond.value.filter((v) => v !== 0).length : null;
  const axisAttr = optionalAxis(ctx.int('axis', Number.NaN));
  if (axisAttr === null) return [typed(x.dtype, [kept])];
  if (!x.shape) return [typed(x.dtype, null)];
  const shape = x.shape.slice();
  shape[normAxis(axisAttr, shape.length)] = kept;
  return [typed(x.dtype, shape)];
};

function optionalAxis(a: number): number | null {
  return Number.isNaN(a) ? null : a;
}

/** Unique: Y, indices, inverse_indices, counts; sizes depend on the data. */
const unique: ShapeRule = (_node, [x], ctx) => {
  if (!x) return [null, null, null, null];
  const axis = optionalAxis(ctx.int('axis', Number.NaN));
  let y: Dim[] | null = [null];
  let inverse: Dim[] = [x.shape && isKnownShape(x.shape) ? count(x.shape) : null];
  if (axis !== null && x.shape) {
    const a = normAxis(axis, x.shape.length);
    y = x.shape.slice();
    y[a] = null;
    inverse = [x.shape[a]];
  }
  return [typed(x.dtype, y), typed('int64', [null]), typed('int64', inverse), typed('int64', [null])];
};

const nonMaxSuppression: ShapeRule = () => [typed('int64', [null, 3])];

export const indexingRules: RuleTable = {
  '': {
    Slice: slice,
    Gather: gather,
    GatherElements: gatherElements,
    GatherND: gatherND,
    Concat: concat,
    Split: split,
    Pad: pad,
    OneHot: oneHot,
    NonZero: nonZero,
    Compress: compress,
    Unique: unique,
    NonMaxSuppression: nonMaxSuppression,
  },
  'com.microsoft': {
    Pad: pad,
  },
};

