// Operators that make a tensor from attributes or small inputs: Constant, ConstantOfShape,
// Range, the Random family. Small integer results carry folded values.
import type { Dim } from '../../graph';
import type { RuleTable, ShapeRule } from '../types';
import { unknownDims } from '../dim-math';
import { MAX_FOLDED_ELEMENTS, count, tensor } from '../fold';
import { ShapeError } from '../shape-error';
import { dtypeFromCode } from '../../onnx/dtype-codes';
import { scalarOf, typed } from './util';

const constant: ShapeRule = (node, _inputs, ctx) => {
  const t = ctx.tensor('value');
  if (t) return [tensor(t.dtype, t.dims, t.values)];
  const a = node.attributes;
  if (a.value_int?.kind === 'int') return [tensor('int64', [], [a.value_int.value])];
  if (a.value_ints?.kind === 'ints') return [tensor('int64', [a.value_ints.value.length], a.value_ints.value)];
  if (a.value_float?.kind === 'float') return [tensor('float32', [], [a.value_float.value])];
  if (a.value_floats?.kind === 'floats') return [tensor('float32', [a.value_floats.value.length], a.value_floats.value)];
  if (a.value_string) return [typed('string', [])];
  if (a.value_strings?.kind === 'strings') return [typed('string', [a.value_strings.value.length])];
  return [null]; // sparse_value: declared type if any
};

const constantOfShape: ShapeRule = (_node, [s], ctx) => {
  const fill = ctx.tensor('value');
  const dtype = fill?.dtype ?? 'float32';
  if (!s?.value) {
    const rank = s?.shape?.[0];
    return [typed(dtype, typeof rank === 'number' ? unknownDims(rank) : null)];
  }
  if (s.value.some((d) => d < 0)) throw new ShapeError(`ConstantOfShape shape [${s.value.join(',')}] has a negative size`);
  const n = count(s.value);
  const v = fill?.values?.[0] ?? 0;
  return [tensor(dtype, s.value, n <= MAX_FOLDED_ELEMENTS ? new Array<number>(n).fill(v) : undefined)];
};

/** Range: max(ceil((limit - start) / delta), 0) elements of start's dtype. */
const rangeOp: ShapeRule = (_node, [start, limit, delta]) => {
  if (!start) return [null];
  const [s, l, d] = [scalarOf(start), scalarOf(limit), scalarOf(delta)];
  if (s === undefined || l === undefined || d === undefined) return [typed(start.dtype, [null])];
  if (d === 0) throw new ShapeError('Range delta is 0');
  const n = Math.max(Math.ceil((l - s) / d), 0);
  let value: number[] | undefined;
  if (n <= MAX_FOLDED_ELEMENTS) {
    value = new Array<number>(n);
    for (let i = 0; i < n; i++) value[i] = s + i * d;
  }
  return [tensor(start.dtype, [n], value)];
};

/** RandomNormal / RandomUniform: shape and dtype from attributes (float32 by default). */
const randomOp: ShapeRule = (_node, _inputs, ctx) => {
  const shape: Dim[] | null = ctx.ints('shape') ?? null;
  return [typed(dtypeFromCode(ctx.int('dtype', 1)), shape)];
};

/** Multinomial: [batch, sample_size] of int32 (default) or int64. */
const multinomial: ShapeRule = (_node, [x], ctx) => {
  return [typed(dtypeFromCode(ctx.int('dtype', 6)), [x?.shape?.[0] ?? null, ctx.int('sample_size', 1)])];
};

export const generatorRules: RuleTable = {
  '': {
    Constant: constant,
    ConstantOfShape: constantOfShape,
    Range: rangeOp,
    RandomNormal: randomOp,
    RandomUniform: randomOp,
    Multinomial: multinomial,
  },
  'com.microsoft': {
    Range: rangeOp,
  },
};
