// Operators that rearrange a tensor without computing on it: Reshape, Flatten, Squeeze,
// Unsqueeze, Transpose, Expand, Tile, and Shape/Size, whose values fold.
import type { Dim } from '../../graph';
import type { RuleTable, ShapeRule } from '../types';
import { broadcast, fmtShape, isKnownShape, mulDim, normAxis, productDims, unknownDims } from '../dim-math';
import { count, mapBroadcast, tensor, transposeValues } from '../fold';
import { ShapeError } from '../shape-error';
import { like, listParam, normAxes, typed } from './util';

/** Reshape target: 0 copies the input dim (unless allowzero), -1 takes what is left. */
export function reshapeShape(input: Dim[] | null, target: number[], allowzero: boolean): Dim[] {
  const out: Dim[] = target.map((v, i) => (v === 0 && !allowzero ? (input?.[i] ?? null) : v));
  const wild = target.indexOf(-1);
  if (wild !== target.lastIndexOf(-1)) throw new ShapeError(`Reshape target ${fmtShape(target)} has more than one -1`);
  if (target.some((v) => v < -1)) throw new ShapeError(`Reshape target ${fmtShape(target)} has a negative size`);
  if (!input) {
    if (wild >= 0) out[wild] = null;
    return out;
  }
  // Cancel what appears on both sides (0-copies by position, named dims by name); what is left
  // must be plain numbers for -1 to resolve.
  const cancelled = new Array<boolean>(input.length).fill(false);
  let outKnown = 1;
  let outNamed = 0;
  for (let i = 0; i < out.length; i++) {
    if (i === wild) continue;
    const d = out[i];
    if (target[i] === 0 && !allowzero && i < input.length) cancelled[i] = true;
    else if (typeof d === 'number') outKnown *= d;
    else {
      const j = d === null ? -1 : input.findIndex((e, k) => e === d && !cancelled[k]);
      if (j >= 0) cancelled[j] = true;
      else outNamed++;
    }
  }
  let inKnown = 1;
  const inNamed: Dim[] = [];
  input.forEach((d, i) => {
    if (cancelled[i]) return;
    if (typeof d === 'number') inKnown *= d;
    else inNamed.push(d);
  });
  if (wild >= 0) {
    if (outNamed > 0) out[wild] = null;
    else if (inNamed.length === 0) {
      if (outKnown === 0 || inKnown % outKnown !== 0) {
        throw new ShapeError(`cannot reshape ${fmtShape(input)} to ${fmtShape(target)}`);
      }
      out[wild] = inKnown / outKnown;
    } else if (inNamed.length === 1 && typeof inNamed[0] === 'string' && inKnown === outKnown) {
      out[wild] = inNamed[0];
    } else out[wild] = null;
  } else if (inNamed.length === 0 && outNamed === 0 && inKnown !== outKnown) {
    throw new ShapeError(`cannot reshape ${fmtShape(input)} to ${fmtShape(out)}: element counts differ`);
  }
  return out;
}

const reshape: ShapeRule = (_node, [x, s], ctx) => {
  if (!x) return [null];
  const target = ctx.opset < 5 ? ctx.ints('shape') : s?.value;
  if (!target) {
    const rank = s?.shape?.length === 1 ? s.shape[0] : null;
    return [typed(x.dtype, typeof rank === 'number' ? unknownDims(rank) : null)];
  }
  const shape = reshapeShape(x.shape, target, ctx.int('allowzero', 0) === 1);
  return [tensor(x.dtype, shape, x.value)];
};

const flatten: ShapeRule = (_node, [x], ctx) => {
  if (!x) return [null];
  if (!x.shape) return [typed(x.dtype, [null, null])];
  const rank = x.shape.length;
  const axis = ctx.int('axis', 1);
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a > rank) throw new ShapeError(`Flatten axis ${axis} is out of range for rank ${rank}`);
  return [tensor(x.dtype, [productDims(x.shape.slice(0, a)), productDims(x.shape.slice(a))], x.value)];
};

const squeeze: ShapeRule = (_node, inputs, ctx) => {
  const x = inputs[0];
  if (!x) return [null];
  const axes = listParam(inputs, 1, ctx, 'axes');
  if (!x.shape) return [typed(x.dtype, null)];
  const shape = x.shape;
  if (axes.kind === 'unknown') {
    return [typed(x.dtype, typeof axes.length === 'number' ? unknownDims(shape.length - axes.length) : null)];
  }
  if (axes.kind === 'absent') {
    // Without axes every size-1 dim goes: only knowable when every dim is known.
    if (!isKnownShape(shape)) return [typed(x.dtype, null)];
    return [tensor(x.dtype, shape.filter((d) => d !== 1), x.value)];
  }
  const drop = new Set(normAxes(axes.values, shape.length));
  for (const a of drop) {
    const d = shape[a];
    if (typeof d === 'number' && d !== 1) throw new ShapeError(`cannot squeeze axis ${a} of size ${d}`);
  }
  return [tensor(x.dtype, shape.filter((_d, i) => !drop.has(i)), x.value)];
};

const unsqueeze: ShapeRule = (_node, inputs, ctx) => {
  const x = inputs[0];
  if (!x) return [null];
  const axes = listParam(inputs, 1, ctx, 'axes');
  if (axes.kind === 'absent') throw new ShapeError('Unsqueeze needs axes');
  if (!x.shape) return [typed(x.dtype, null)];
  if (axes.kind === 'unknown') {
    return [typed(x.dtype, typeof axes.length === 'number' ? unknownDims(x.shape.length + axes.length) : null)];
  }
  const rank = x.shape.length + axes.values.length;
  const add = new Set(normAxes(axes.values, rank));
  const out: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(add.has(i) ? 1 : x.shape[j++]);
  return [tensor(x.dtype, out, x.value)];
};

const transpose: ShapeRule = (_node, [x], ctx) => {
  if (!x) return [null];
  if (!x.shape) return [typed(x.dtype, null)];
  const rank = x.shape.length;
  const perm = ctx.ints('perm') ?? x.shape.map((_d, i) => rank - 1 - i);
  if (perm.length !== rank) throw new ShapeError(`perm [${perm.join(',')}] does not match rank ${rank}`);
  const axes = perm.map((p) => normAxis(p, rank, 'perm entry'));
  const shape = axes.map((a) => x.shape![a]);
  const value = x.value && isKnownShape(x.shape) ? (rank <= 1 ? x.value : transposeValues(x.value, x.shape, axes)) : undefined;
  return [tensor(x.dtype, shape, value)];
};

const expand: ShapeRule = (_node, [x, s]) => {
  if (!x) return [null];
  if (!s?.value) {
    const k = s?.shape?.[0];
    if (!x.shape || typeof k !== 'number') return [typed(x.dtype, null)];
    return [typed(x.dtype, unknownDims(Math.max(k, x.shape.length)))];
  }
  if (!x.shape) return [typed(x.dtype, null)];
  const shape = broadcast(x.shape, s.value);
  return [tensor(x.dtype, shape, mapBroadcast([x], shape, (a) => a[0]))];
};

const tile: ShapeRule = (_node, [x, r]) => {
  if (!x) return [null];
  if (!x.shape) return [typed(x.dtype, null)];
  if (!r?.value) return [typed(x.dtype, unknownDims(x.shape.length))];
  if (r.value.length !== x.shape.length) throw new ShapeError(`Tile repeats has ${r.value.length} values for rank ${x.shape.length}`);
  const shape = x.shape.map((d, i) => mulDim(d, r.value![i]));
  let value: number[] | undefined;
  if (x.value && x.shape.length === 1) {
    value = [];
    for (let i = 0; i < r.value[0]; i++) value.push(...x.value);
  }
  return [tensor(x.dtype, shape, value)];
};

/** Shape (start/end from opset 15): int64 [rank], folded when the dims are known. */
const shapeOp: ShapeRule = (_node, [x], ctx) => {
  if (!x) return [null];
  if (!x.shape) return [typed('int64', [null])];
  const rank = x.shape.length;
  const clampAxis = (a: number) => Math.min(Math.max(a < 0 ? a + rank : a, 0), rank);
  const start = clampAxis(ctx.int('start', 0));
  const end = clampAxis(ctx.int('end', rank));
  const dims = x.shape.slice(start, Math.max(start, end));
  return [tensor('int64', [dims.length], isKnownShape(dims) ? dims : undefined)];
};

const size: ShapeRule = (_node, [x]) => {
  if (!x) return [null];
  return [tensor('int64', [], isKnownShape(x.shape) ? [count(x.shape)] : undefined)];
};

const identityLike: ShapeRule = (_node, [x]) => [like(x)];

export const shapeOpRules: RuleTable = {
  '': {
    Reshape: reshape,
    Flatten: flatten,
    Squeeze: squeeze,
    Unsqueeze: unsqueeze,
    Transpose: transpose,
    Expand: expand,
    Tile: tile,
    Shape: shapeOp,
    Size: size,
    Optional: identityLike,
    OptionalGetElement: identityLike,
  },
};
