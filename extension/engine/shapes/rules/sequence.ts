// Sequence operators (the lists of tensors that scripted PyTorch loops append to): a sequence is
// typed by its elements' dtype and shape and by its length, so a Loop that appends once per
// iteration and a ConcatFromSequence after it have known sizes.
import type { Dim } from '../../graph';
import type { InferredTensor, RuleTable, ShapeRule } from '../types';
import { addDim, mulDim, normAxis } from '../dim-math';
import { dtypeFromCode } from '../../onnx/dtype-codes';
import { scalarOf, typed } from './util';

export function sequenceOf(dtype: InferredTensor['dtype'], shape: Dim[] | null, length: Dim): InferredTensor {
  return { dtype, shape, sequence: { length } };
}

/** Element shape that holds for both a and b: equal dims stay, others are unknown. */
function joinShapes(a: Dim[] | null, b: Dim[] | null): Dim[] | null {
  if (!a || !b || a.length !== b.length) return null;
  return a.map((d, i) => (d === b[i] ? d : null));
}

const sequenceEmpty: ShapeRule = (_node, _inputs, ctx) => [sequenceOf(dtypeFromCode(ctx.int('dtype', 1)), null, 0)];

const sequenceConstruct: ShapeRule = (_node, inputs) => {
  const present = inputs.filter((t): t is InferredTensor => t !== undefined);
  if (present.length === 0) return [null];
  const shape = present.slice(1).reduce<Dim[] | null>((s, t) => joinShapes(s, t.shape), present[0].shape);
  return [sequenceOf(present[0].dtype, shape, present.length)];
};

const sequenceInsert: ShapeRule = (_node, [seq, t]) => {
  if (!seq?.sequence || !t) return [null];
  const shape = seq.sequence.length === 0 ? t.shape : joinShapes(seq.shape, t.shape);
  return [sequenceOf(t.dtype, shape, addDim(seq.sequence.length, 1))];
};

const sequenceErase: ShapeRule = (_node, [seq]) => {
  if (!seq?.sequence) return [null];
  const n = seq.sequence.length;
  return [sequenceOf(seq.dtype, seq.shape, typeof n === 'number' ? Math.max(n - 1, 0) : null)];
};

const sequenceAt: ShapeRule = (_node, [seq]) => (seq ? [typed(seq.dtype, seq.shape)] : [null]);

const sequenceLength: ShapeRule = (_node, [seq]) => {
  const n = seq?.sequence?.length;
  return [typeof n === 'number' ? { dtype: 'int64', shape: [], value: [n] } : typed('int64', [])];
};

/** SplitToSequence without `split`: one element per index of `axis` (kept as size 1 when keepdims). */
const splitToSequence: ShapeRule = (_node, [x, split], ctx) => {
  if (!x?.shape) return [x ? sequenceOf(x.dtype, null, null) : null];
  const axis = normAxis(ctx.int('axis', 0), x.shape.length);
  if (split) {
    const n = scalarOf(split);
    const chunks = n !== undefined && typeof x.shape[axis] === 'number' ? Math.ceil((x.shape[axis]) / n) : null;
    const each = n !== undefined && typeof x.shape[axis] === 'number' && (x.shape[axis]) % n === 0 ? x.shape.map((d, i) => (i === axis ? n : d)) : null;
    return [sequenceOf(x.dtype, each, split.shape?.length === 0 ? chunks : split.shape?.[0] ?? null)];
  }
  const keep = ctx.int('keepdims', 1) === 1;
  const shape = keep ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_d, i) => i !== axis);
  return [sequenceOf(x.dtype, shape, x.shape[axis])];
};

/** ConcatFromSequence: along `axis`, or stacked on a new axis when `new_axis` is 1. */
const concatFromSequence: ShapeRule = (_node, [seq], ctx) => {
  if (!seq?.sequence) return [null];
  const n = seq.sequence.length;
  if (!seq.shape) return [typed(seq.dtype, null)];
  const stacked = ctx.int('new_axis', 0) === 1;
  const rank = seq.shape.length + (stacked ? 1 : 0);
  const axis = normAxis(ctx.int('axis', 0), rank);
  const shape = stacked ? [...seq.shape.slice(0, axis), n, ...seq.shape.slice(axis)] : seq.shape.map((d, i) => (i === axis ? mulDim(d, n) : d));
  return [typed(seq.dtype, shape)];
};

export const sequenceRules: RuleTable = {
  '': {
    SequenceEmpty: sequenceEmpty,
    SequenceConstruct: sequenceConstruct,
    SequenceInsert: sequenceInsert,
    SequenceErase: sequenceErase,
    SequenceAt: sequenceAt,
    SequenceLength: sequenceLength,
    SplitToSequence: splitToSequence,
    ConcatFromSequence: concatFromSequence,
  },
};
