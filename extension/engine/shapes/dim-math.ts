// Arithmetic on dimensions that may be symbolic (a name) or unknown (null).
import type { Dim } from '../graph';
import { ShapeError } from './shape-error';

export function fmtShape(s: Dim[] | null): string {
  if (s === null) return '[?]';
  return `[${s.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}

/** Axis in [-rank, rank) to [0, rank). */
export function normAxis(axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new ShapeError(`${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Numpy broadcasting of two shapes; a named dim against 1 or itself keeps its name. */
export function broadcast(a: Dim[], b: Dim[]): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<Dim>(rank);
  for (let i = 0; i < rank; i++) {
    const x = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const y = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    out[i] = broadcastDim(x, y, a, b);
  }
  return out;
}

function broadcastDim(x: Dim, y: Dim, a: Dim[], b: Dim[]): Dim {
  if (x === y) return x;
  if (x === 1) return y;
  if (y === 1) return x;
  if (typeof x === 'number' && typeof y === 'number') {
    throw new ShapeError(`shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast`);
  }
  // A known size other than 1 wins: the other side must be 1 or equal to it.
  if (typeof x === 'number') return x;
  if (typeof y === 'number') return y;
  return null;
}

/** Broadcast of several shapes; null when any rank is unknown. */
export function broadcastAll(shapes: (Dim[] | null | undefined)[]): Dim[] | null {
  let out: Dim[] = [];
  for (const s of shapes) {
    if (!s) return null;
    out = broadcast(out, s);
  }
  return out;
}

export function mulDim(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  if (a === 1) return b;
  if (b === 1) return a;
  return null;
}

export function addDim(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a === 0) return b;
  if (b === 0) return a;
  return null;
}

/** a / b when both are known and b divides a; a named dim over 1 stays named. */
export function divDim(a: Dim, b: Dim): Dim {
  if (b === 1) return a;
  if (typeof a === 'number' && typeof b === 'number' && b !== 0) {
    if (a % b !== 0) throw new ShapeError(`${a} is not divisible by ${b}`);
    return a / b;
  }
  return null;
}

/** Product of dims, keeping a single named dim when every other factor is 1. */
export function productDims(dims: Dim[]): Dim {
  let out: Dim = 1;
  for (const d of dims) out = mulDim(out, d);
  return out;
}

export function isKnownShape(s: Dim[] | null | undefined): s is number[] {
  if (!s) return false;
  for (const d of s) if (typeof d !== 'number') return false;
  return true;
}

/** Two dims that must be equal (MatMul's inner dims); both known and different is an error (`what` may be made only then). */
export function sameDim(a: Dim, b: Dim, what: string | (() => string)): Dim {
  if (typeof a === 'number' && typeof b === 'number' && a !== b) {
    throw new ShapeError(`${typeof what === 'string' ? what : what()}: ${a} != ${b}`);
  }
  return typeof a === 'number' ? a : b;
}

/** Shape with every dim unknown, for when only the rank can be told. */
export function unknownDims(rank: number): Dim[] {
  return new Array<Dim>(rank).fill(null);
}
