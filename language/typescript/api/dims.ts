// Symbolic dimensions: a size is a number or a name (`batch`, `sequence`, `past_sequence+sequence`).
// Names combine into small expressions so shapes stay exact while the engine binds the symbols.
import type { Dim } from '../../../extension/engine/graph';
import { MemlensError } from '../../../extension/engine/errors';

export type Shape = Dim[];

export function formatShape(shape: readonly Dim[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}

function wrap(d: Dim): string {
  const s = String(d);
  return /[+*/-]/.test(s) ? `(${s})` : s;
}

export function addDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a === 0) return b;
  if (b === 0) return a;
  if (a === null || b === null) return null;
  return `${a}+${b}`;
}

export function mulDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  if (a === 1) return b;
  if (b === 1) return a;
  if (a === null || b === null) return null;
  return `${wrap(a)}*${wrap(b)}`;
}

export function product(dims: readonly Dim[]): Dim {
  return dims.reduce<Dim>((acc, d) => mulDims(acc, d), 1);
}

/** Divides when exact (numbers) or when the divisor is 1; otherwise null (unknown). */
/**
 * Evaluates a dim under symbol bindings (`{batch: 1, sequence: 1024}`); supports the `+ * ( )`
 * expressions this module writes. Returns null when a symbol is unbound.
 */
export function evaluateDim(d: Dim, bindings: Readonly<Record<string, number>>): number | null {
  if (typeof d === 'number') return d;
  if (d === null) return null;
  const tokens = d.match(/[A-Za-z_][A-Za-z0-9_]*|\d+|[+*()]/g) ?? [];
  let i = 0;
  const primary = (): number | null => {
    const t = tokens[i++];
    if (t === '(') {
      const v = sum();
      i++; // ')'
      return v;
    }
    if (t === undefined) return null;
    if (/^\d+$/.test(t)) return Number(t);
    return Object.prototype.hasOwnProperty.call(bindings, t) ? bindings[t] : null;
  };
  const term = (): number | null => {
    let v = primary();
    while (tokens[i] === '*') {
      i++;
      const r = primary();
      v = v === null || r === null ? null : v * r;
    }
    return v;
  };
  const sum = (): number | null => {
    let v = term();
    while (tokens[i] === '+') {
      i++;
      const r = term();
      v = v === null || r === null ? null : v + r;
    }
    return v;
  };
  return sum();
}

/** Numpy broadcasting of two shapes; null when they cannot broadcast. */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[]): Dim[] | null {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = i < n - a.length ? 1 : a[i - (n - a.length)];
    const y = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (x === 1) out.push(y);
    else if (y === 1) out.push(x);
    else if (x === y) out.push(x);
    else if (typeof x === 'number' && typeof y === 'number') return null;
    else out.push(typeof x === 'number' ? y : x); // symbolic vs other: trust the symbol to bind equal
  }
  return out;
}

/** Normalises a possibly negative axis for a rank; throws on out-of-range. */
export function normAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new MemlensError(`${what}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** A product split into its numeric coefficient and symbolic factors (top-level `*` only). */
function factors(d: Dim): { coef: number; syms: string[] } | null {
  if (d === null) return null;
  if (typeof d === 'number') return { coef: d, syms: [] };
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of d) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === '*' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  if (parts.length === 1 && /[+]/.test(d) && !(d.startsWith('(') && d.endsWith(')'))) return { coef: 1, syms: [`(${d})`] };
  let coef = 1;
  const syms: string[] = [];
  for (const p of parts) {
    if (/^\d+$/.test(p)) coef *= Number(p);
    else syms.push(p.startsWith('(') || !/[+]/.test(p) ? p : `(${p})`);
  }
  return { coef, syms };
}

/** prod(numer) / prod(denom) when it divides exactly (cancelling equal symbols), else null. */
export function divideProducts(numer: readonly Dim[], denom: readonly Dim[]): Dim {
  let coef = 1;
  const syms: string[] = [];
  for (const d of numer) {
    const f = factors(d);
    if (!f) return null;
    coef *= f.coef;
    syms.push(...f.syms);
  }
  let dcoef = 1;
  for (const d of denom) {
    const f = factors(d);
    if (!f) return null;
    dcoef *= f.coef;
    for (const s of f.syms) {
      const i = syms.indexOf(s);
      if (i < 0) return null;
      syms.splice(i, 1);
    }
  }
  if (dcoef === 0 || coef % dcoef !== 0) return null;
  const c = coef / dcoef;
  if (syms.length === 0) return c;
  const unwrap = (s: string) => (syms.length === 1 && c === 1 && s.startsWith('(') && s.endsWith(')') ? s.slice(1, -1) : s);
  return [...(c === 1 ? [] : [String(c)]), ...syms.map(unwrap)].join('*');
}
