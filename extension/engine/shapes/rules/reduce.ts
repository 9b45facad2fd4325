// Reductions: the Reduce family (axes attribute before opset 18, input after; ReduceSum from 13),
// keepdims, noop_with_empty_axes; ArgMax/ArgMin; TopK.
import type { Dim } from '../../graph';
import type { RuleTable, ShapeRule } from '../types';
import { normAxis, unknownDims } from '../dim-math';
import { range, tensor } from '../fold';
import { listParam, normAxes, scalarOf, typed } from './util';

type Fold = (values: number[]) => number;

function reduceRule(fold?: Fold): ShapeRule {
  return (_node, inputs, ctx) => {
    const x = inputs[0];
    if (!x) return [null];
    if (!x.shape) return [typed(x.dtype, null)];
    const rank = x.shape.length;
    const keep = ctx.int('keepdims', 1) === 1;
    const axesP = listParam(inputs, 1, ctx, 'axes');
    if (axesP.kind === 'unknown') {
      if (keep) return [typed(x.dtype, unknownDims(rank))];
      return [typed(x.dtype, typeof axesP.length === 'number' ? unknownDims(rank - axesP.length) : null)];
    }
    let axes = axesP.kind === 'given' ? axesP.values : [];
    if (axes.length === 0) {
      if (ctx.int('noop_with_empty_axes', 0) === 1) return [tensor(x.dtype, x.shape, x.value)];
      axes = range(rank);
    }
    const reduced = new Set(normAxes(axes, rank));
    const shape: Dim[] = keep ? x.shape.map((d, i) => (reduced.has(i) ? 1 : d)) : x.shape.filter((_d, i) => !reduced.has(i));
    // Folds only full reductions (ReduceProd of a Shape slice is how exporters compute a flat size).
    const value = fold && x.value && reduced.size === rank ? [fold(x.value)] : undefined;
    return [tensor(x.dtype, shape, value)];
  };
}

const sum: Fold = (v) => v.reduce((a, b) => a + b, 0);

const argReduce: ShapeRule = (_node, [x], ctx) => {
  if (!x) return [null];
  if (!x.shape) return [typed('int64', null)];
  const axis = normAxis(ctx.int('axis', 0), x.shape.length);
  const keep = ctx.int('keepdims', 1) === 1;
  const shape = keep ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_d, i) => i !== axis);
  return [typed('int64', shape)];
};

/** TopK: K from the second input (opset >= 10) or the `k` attribute; values and int64 indices. */
const topK: ShapeRule = (_node, [x, kInput], ctx) => {
  if (!x) return [null, null];
  if (!x.shape) return [typed(x.dtype, null), typed('int64', null)];
  const axis = normAxis(ctx.int('axis', -1), x.shape.length);
  const k = ctx.opset >= 10 ? scalarOf(kInput) : ctx.int('k', Number.NaN);
  const shape = x.shape.slice();
  shape[axis] = k === undefined || Number.isNaN(k) ? null : k;
  return [typed(x.dtype, shape), typed('int64', shape)];
};

export const reduceRules: RuleTable = {
  '': {
    ReduceSum: reduceRule(sum),
    ReduceProd: reduceRule((v) => v.reduce((a, b) => a * b, 1)),
    ReduceMax: reduceRule((v) => Math.max(...v)),
    ReduceMin: reduceRule((v) => Math.min(...v)),
    ReduceMean: reduceRule(),
    ReduceL1: reduceRule(),
    ReduceL2: reduceRule(),
    ReduceSumSquare: reduceRule(),
    ReduceLogSum: reduceRule(),
    ReduceLogSumExp: reduceRule(),
    ArgMax: argReduce,
    ArgMin: argReduce,
    TopK: topK,
  },
};
