// The symbolic tensor: a name in the traced graph with a shape (numbers and symbols) and a dtype.
// Every method appends ONNX nodes (opset 17) to the trace and checks shapes as PyTorch would.
import type { DType, Dim } from '../../../extension/engine/graph';
import { MemlensError } from '../../../extension/engine/errors';
import { broadcastShapes, divideProducts, formatShape, normAxis, product } from './dims';
import { isFloatDType } from '../../../extension/engine/graph';
import { dtypeCode } from '../../../extension/engine/onnx/dtype-codes';
import { promote } from './dtypes';
import type { TraceGraph } from './trace-graph';

const INT64_MAX_SLICE = Number.MAX_SAFE_INTEGER;

/** Lowest finite value of a float type (used as -infinity in masks). */
export function lowestFinite(dtype: DType): number {
  switch (dtype) {
    case 'float16': return -65504;
    case 'bfloat16': return -3.3895313892515355e38;
    default: return -3.4028234663852886e38;
  }
}

function attrInt(value: number) {
  return { kind: 'int' as const, value };
}
function attrInts(value: number[]) {
  return { kind: 'ints' as const, value };
}

export class Tensor {
  constructor(
    protected boundGraph: TraceGraph | null,
    public name: string,
    public shape: Dim[],
    public dtype: DType,
  ) {}

  get graph(): TraceGraph {
    if (!this.boundGraph) throw new MemlensError(`tensor ${this.name} is not part of a trace (is it a parameter of a module outside the model?)`);
    return this.boundGraph;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Size of one axis (negative counts from the end), or the whole shape. */
  size(axis: number): Dim {
    return this.shape[normAxis(axis, this.rank, 'size')];
  }

  toString(): string {
    return `Tensor(${this.name}, ${formatShape(this.shape)}, ${this.dtype})`;
  }

  // ---- elementwise ----

  private binary(op: string, label: string, other: Tensor | number): Tensor {
    const g = this.graph;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the left operand, cast in place below
    let a: Tensor = this;
    let b: Tensor;
    if (typeof other === 'number') {
      if (!isFloatDType(a.dtype) && !Number.isInteger(other)) a = a.to('float32');
      b = g.scalar(other, a.dtype);
    } else {
      b = other;
      const dt = promote(a.dtype, b.dtype);
      a = a.to(dt);
      b = b.to(dt);
    }
    const shape = broadcastShapes(a.shape, b.shape);
    if (!shape) throw new MemlensError(`shape mismatch in ${label}: ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
    return g.op(op, [a, b], { dtype: a.dtype, shape });
  }

  add(other: Tensor | number): Tensor { return this.binary('Add', 'add', other); }
  sub(other: Tensor | number): Tensor { return this.binary('Sub', 'sub', other); }
  mul(other: Tensor | number): Tensor { return this.binary('Mul', 'mul', other); }
  div(other: Tensor | number): Tensor { return this.binary('Div', 'div', other); }
  pow(other: Tensor | number): Tensor { return this.binary('Pow', 'pow', other); }

  /** Any one-input elementwise ONNX op (`Cos`, `Sin`, `Softplus`, ...). */
  unaryOp(op: string): Tensor {
    return this.graph.op(op, [this], { dtype: this.dtype, shape: [...this.shape] });
  }

  private unary(op: string): Tensor {
    return this.unaryOp(op);
  }

  neg(): Tensor { return this.unary('Neg'); }
  exp(): Tensor { return this.unary('Exp'); }
  log(): Tensor { return this.unary('Log'); }
  sqrt(): Tensor { return this.unary('Sqrt'); }
  rsqrt(): Tensor { return this.unary('Sqrt').unary('Reciprocal'); }
  abs(): Tensor { return this.unary('Abs'); }
  tanh(): Tensor { return this.unary('Tanh'); }
  sigmoid(): Tensor { return this.unary('Sigmoid'); }
  relu(): Tensor { return this.unary('Relu'); }
  erf(): Tensor { return this.unary('Erf'); }
  /** Identity node (a named copy point; also ends a marker region cleanly). */
  identity(): Tensor { return this.unary('Identity'); }

  /** Cast; a no-op when the dtype already matches. */
  to(dtype: DType): Tensor {
    if (dtype === this.dtype) return this;
    return this.graph.op('Cast', [this], { dtype, shape: [...this.shape] }, { to: attrInt(castCode(dtype)) });
  }

  // ---- linear algebra ----

  matmul(other: Tensor): Tensor {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- named as the maths names it (a x b)
    const a = this;
    const b = other.dtype === a.dtype ? other : other.to(promote(a.dtype, other.dtype));
    const a2 = b.dtype === a.dtype ? a : a.to(b.dtype);
    if (a.rank < 1 || b.rank < 1) throw new MemlensError(`matmul needs tensors of rank >= 1: ${formatShape(a.shape)} x ${formatShape(b.shape)}`);
    const aShape = a.rank === 1 ? [1, ...a.shape] : a.shape;
    const bShape = b.rank === 1 ? [...b.shape, 1] : b.shape;
    const k1 = aShape[aShape.length - 1];
    const k2 = bShape[bShape.length - 2];
    if (k1 !== k2 && (typeof k1 === 'number' || typeof k2 === 'number')) {
      throw new MemlensError(`shape mismatch in matmul: ${formatShape(a.shape)} x ${formatShape(b.shape)}`);
    }
    const batch = broadcastShapes(aShape.slice(0, -2), bShape.slice(0, -2));
    if (!batch) throw new MemlensError(`shape mismatch in matmul (batch dims): ${formatShape(a.shape)} x ${formatShape(b.shape)}`);
    const shape: Dim[] = [...batch];
    if (a.rank > 1) shape.push(aShape[aShape.length - 2]);
    if (b.rank > 1) shape.push(bShape[bShape.length - 1]);
    return this.graph.op('MatMul', [a2, b], { dtype: b.dtype, shape });
  }

  // ---- shape ----

  /** PyTorch `view`/`reshape`: sizes may be numbers, symbols from other shapes, and one -1. */
  reshape(...dims: Dim[]): Tensor {
    return this.reshapeWith(dims, []);
  }

  /** Reshape whose symbolic sizes may be read from `sources` (tensors that carry those symbols). */
  reshapeWith(dims: Dim[], sources: Tensor[]): Tensor {
    const g = this.graph;
    const minus = dims.filter((d) => d === -1).length;
    if (minus > 1) throw new MemlensError(`reshape: only one dimension can be -1 in ${formatShape(dims)}`);
    const out: Dim[] = [...dims];
    if (minus === 1) {
      const known = dims.filter((d) => d !== -1);
      const inferred = divideProducts(this.shape, known);
      if (inferred === null && this.shape.every((d) => typeof d === 'number') && known.every((d) => typeof d === 'number')) {
        throw new MemlensError(`cannot reshape ${formatShape(this.shape)} to ${formatShape(dims)}`);
      }
      out[dims.indexOf(-1)] = inferred;
    } else if (divideProducts(this.shape, dims) !== 1) {
      const a = product(this.shape);
      const b = product(dims);
      const known = product(this.shape.filter((d) => typeof d === 'number'));
      // Sizes that can never match: numbers that differ, or a numeric target not divisible by the input's numeric part.
      if ((typeof a === 'number' && typeof b === 'number') || (typeof b === 'number' && typeof known === 'number' && b % known !== 0)) {
        throw new MemlensError(`cannot reshape ${formatShape(this.shape)} to ${formatShape(dims)}`);
      }
    }
    return g.op('Reshape', [this, shapeTensor(g, dims, this, true, sources)], { dtype: this.dtype, shape: out });
  }

  view(...dims: Dim[]): Tensor {
    return this.reshape(...dims);
  }

  /** Flattens axes start..end (inclusive) into one. */
  flatten(start = 0, end = -1): Tensor {
    const s = normAxis(start, this.rank, 'flatten');
    const e = normAxis(end, this.rank, 'flatten');
    const dims: Dim[] = [...this.shape.slice(0, s), product(this.shape.slice(s, e + 1)), ...this.shape.slice(e + 1)];
    return this.reshape(...dims);
  }

  transpose(a: number, b: number): Tensor {
    const perm = this.shape.map((_, i) => i);
    const x = normAxis(a, this.rank, 'transpose');
    const y = normAxis(b, this.rank, 'transpose');
    [perm[x], perm[y]] = [perm[y], perm[x]];
    return this.permute(...perm);
  }

  permute(...perm: number[]): Tensor {
    if (perm.length !== this.rank) throw new MemlensError(`permute: ${perm.length} axes given for a tensor of rank ${this.rank}`);
    const p = perm.map((a) => normAxis(a, this.rank, 'permute'));
    return this.graph.op('Transpose', [this], { dtype: this.dtype, shape: p.map((i) => this.shape[i]) }, { perm: attrInts(p) });
  }

  unsqueeze(axis: number): Tensor {
    const a = normAxis(axis, this.rank + 1, 'unsqueeze');
    const shape = [...this.shape];
    shape.splice(a, 0, 1);
    return this.graph.op('Unsqueeze', [this, this.graph.int64s([a])], { dtype: this.dtype, shape });
  }

  squeeze(axis: number): Tensor {
    const a = normAxis(axis, this.rank, 'squeeze');
    if (typeof this.shape[a] === 'number' && this.shape[a] !== 1) throw new MemlensError(`squeeze: axis ${axis} has size ${this.shape[a]}, not 1`);
    const shape = this.shape.filter((_, i) => i !== a);
    return this.graph.op('Squeeze', [this, this.graph.int64s([a])], { dtype: this.dtype, shape });
  }

  /** Broadcasts to a shape (torch `expand`): numbers, 1 to keep a dim, or symbols of other tensors. */
  expand(...dims: Dim[]): Tensor {
    const shape = broadcastShapes(this.shape, dims);
    if (!shape) throw new MemlensError(`expand: cannot broadcast ${formatShape(this.shape)} to ${formatShape(dims)}`);
    return this.graph.op('Expand', [this, shapeTensor(this.graph, dims, this, false)], { dtype: this.dtype, shape });
  }

  /** Python-style `x[..., start:end:step]` on one axis; `end` omitted means to the end. */
  slice(axis: number, start: number, end?: number, step = 1): Tensor {
    const a = normAxis(axis, this.rank, 'slice');
    const d = this.shape[a];
    let size: Dim;
    if (typeof d === 'number') {
      const s = clampIndex(start, d);
      const e = end === undefined ? d : clampIndex(end, d);
      size = Math.max(0, Math.ceil((e - s) / step));
    } else if (end !== undefined && start >= 0 && end >= 0) size = Math.ceil((end - start) / step);
    else if (end === undefined && start < 0 && step === 1) size = -start;
    else if (end === undefined && start === 0 && step === 1) size = d;
    else size = null;
    const shape = [...this.shape];
    shape[a] = size;
    const g = this.graph;
    return g.op('Slice', [this, g.int64s([start]), g.int64s([end ?? INT64_MAX_SLICE]), g.int64s([a]), g.int64s([step])], { dtype: this.dtype, shape });
  }

  /** Splits into pieces of `size` (or the given sizes) along an axis. */
  split(sizes: number | number[], axis = 0): Tensor[] {
    const a = normAxis(axis, this.rank, 'split');
    const d = this.shape[a];
    let parts: number[];
    if (Array.isArray(sizes)) {
      parts = sizes;
      if (typeof d === 'number' && parts.reduce((x, y) => x + y, 0) !== d) {
        throw new MemlensError(`split: sizes ${formatShape(parts)} do not add up to ${d} (axis ${axis} of ${formatShape(this.shape)})`);
      }
    } else {
      if (typeof d !== 'number') throw new MemlensError(`split: axis ${axis} has symbolic size ${d}; give explicit sizes`);
      parts = [];
      for (let left = d; left > 0; left -= sizes) parts.push(Math.min(sizes, left));
    }
    const g = this.graph;
    const outs = parts.map((p) => {
      const shape = [...this.shape];
      shape[a] = p;
      return { dtype: this.dtype, shape };
    });
    return g.emit('Split', [this, g.int64s(parts)], outs, { axis: attrInt(a) });
  }

  /** Splits into `n` equal pieces along an axis. */
  chunk(n: number, axis = 0): Tensor[] {
    const d = this.shape[normAxis(axis, this.rank, 'chunk')];
    if (typeof d !== 'number') throw new MemlensError(`chunk: axis ${axis} has symbolic size ${d}`);
    if (d % n !== 0) throw new MemlensError(`chunk: size ${d} of axis ${axis} is not divisible by ${n}`);
    return this.split(d / n, axis);
  }

  /** Gathers slices of this tensor at integer `indices` along an axis (embedding lookup). */
  gather(indices: Tensor, axis = 0): Tensor {
    const a = normAxis(axis, this.rank, 'gather');
    const shape = [...this.shape.slice(0, a), ...indices.shape, ...this.shape.slice(a + 1)];
    return this.graph.op('Gather', [this, indices], { dtype: this.dtype, shape }, { axis: attrInt(a) });
  }

  // ---- reductions and normalisers ----

  softmax(axis = -1): Tensor {
    const a = normAxis(axis, this.rank, 'softmax');
    return this.graph.op('Softmax', [this], { dtype: this.dtype, shape: [...this.shape] }, { axis: attrInt(a) });
  }

  logSoftmax(axis = -1): Tensor {
    const a = normAxis(axis, this.rank, 'logSoftmax');
    return this.graph.op('LogSoftmax', [this], { dtype: this.dtype, shape: [...this.shape] }, { axis: attrInt(a) });
  }

  private reduced(axes: number[], keepdim: boolean): Dim[] {
    return keepdim ? this.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : this.shape.filter((_, i) => !axes.includes(i));
  }

  mean(axis: number | number[], keepdim = false): Tensor {
    const axes = (Array.isArray(axis) ? axis : [axis]).map((x) => normAxis(x, this.rank, 'mean'));
    return this.graph.op('ReduceMean', [this], { dtype: this.dtype, shape: this.reduced(axes, keepdim) }, { axes: attrInts(axes), keepdims: attrInt(keepdim ? 1 : 0) });
  }

  sum(axis: number | number[], keepdim = false): Tensor {
    const axes = (Array.isArray(axis) ? axis : [axis]).map((x) => normAxis(x, this.rank, 'sum'));
    return this.graph.op('ReduceSum', [this, this.graph.int64s(axes)], { dtype: this.dtype, shape: this.reduced(axes, keepdim) }, { keepdims: attrInt(keepdim ? 1 : 0) });
  }

  max(axis: number, keepdim = false): Tensor {
    const a = normAxis(axis, this.rank, 'max');
    return this.graph.op('ReduceMax', [this], { dtype: this.dtype, shape: this.reduced([a], keepdim) }, { axes: attrInts([a]), keepdims: attrInt(keepdim ? 1 : 0) });
  }
}

function clampIndex(i: number, d: number): number {
  const j = i < 0 ? i + d : i;
  return Math.min(Math.max(j, 0), d);
}

/**
 * The int64 shape operand of Reshape/Expand for `dims`: a constant when every dim is a number
 * (0 = copy, -1 = infer, Reshape only), else a Concat of constants and Shape slices of `ref`.
 */
export function shapeTensor(g: TraceGraph, dims: readonly Dim[], ref: Tensor, reshape: boolean, sources: Tensor[] = []): Tensor {
  const pieces: (number | Tensor)[] = [];
  const unresolved = dims.filter((d, i) => typeof d !== 'number' && !(reshape && ref.shape[i] === d)).length;
  dims.forEach((d, i) => {
    if (typeof d === 'number') pieces.push(d);
    else if (reshape && ref.shape[i] === d) pieces.push(0);
    else if (d !== null && ref.shape.includes(d)) {
      const j = ref.shape.indexOf(d);
      pieces.push(g.op('Shape', [ref], { dtype: 'int64', shape: [1] }, { start: attrInt(j), end: attrInt(j + 1) }));
    } else if (d !== null) {
      const src = [...sources, ...g.inputTensors].find((t) => t.shape.includes(d));
      if (src) {
        const j = src.shape.indexOf(d);
        pieces.push(g.op('Shape', [src], { dtype: 'int64', shape: [1] }, { start: attrInt(j), end: attrInt(j + 1) }));
      } else if (reshape && unresolved === 1 && !dims.includes(-1)) pieces.push(-1);
      else throw new MemlensError(`reshape: cannot resolve symbolic size ${d} of ${formatShape(dims)} from ${formatShape(ref.shape)}`);
    } else throw new MemlensError(`reshape: unknown size in ${formatShape(dims)}`);
  });
  if (pieces.every((p) => typeof p === 'number')) return g.int64s(pieces);
  const parts: Tensor[] = [];
  let run: number[] = [];
  for (const p of pieces) {
    if (typeof p === 'number') run.push(p);
    else {
      if (run.length) parts.push(g.int64s(run));
      run = [];
      parts.push(p);
    }
  }
  if (run.length) parts.push(g.int64s(run));
  return g.op('Concat', parts, { dtype: 'int64', shape: [dims.length] }, { axis: attrInt(0) });
}

/** Cast's `to` for a dtype; strings and the 'undefined' placeholder are no cast target. */
function castCode(d: DType): number {
  const c = d === 'string' || d === 'undefined' ? null : dtypeCode(d);
  if (c === null) throw new MemlensError(`unsupported dtype ${d}`);
  return c;
}
