// The last gate before a profile leaves the engine: every figure in it is a finite number >= 0.
// Inputs are validated at the edges (dims, initializers, shape rules); a figure that still comes out
// NaN, infinite or negative is a bug, and it must stop here as one line rather than print "NaN KiB"
// or pass a budget check.
import { MemlensError } from './errors';

/**
 * Whether every number in `value` is finite and >= 0. The common case, walked without building a
 * path for each of a profile's ~10^5 figures; firstBadFigure names the culprit when one exists.
 */
function allSound(value: unknown): boolean {
  // Numbers are checked where they are found; only arrays and records go on the stack.
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'number') {
      if (!(v >= 0 && v !== Infinity)) return false; // NaN fails `>= 0`
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    const xs: unknown[] = Array.isArray(v) ? v : Object.values(v);
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i];
      if (typeof x === 'number') {
        if (!(x >= 0 && x !== Infinity)) return false;
      } else if (x !== null && typeof x === 'object') stack.push(x);
    }
  }
  return true;
}

/** The path and value of the first figure in `value` that is not a finite number >= 0, or null. */
export function firstBadFigure(value: unknown, at = ''): { path: string; value: number } | null {
  if (allSound(value)) return null;
  // Iterative walk: a 10^5-node profile has deep arrays but no deep nesting; keep the stack flat anyway.
  const stack: { v: unknown; at: string }[] = [{ v: value, at }];
  while (stack.length > 0) {
    const { v, at: here } = stack.pop()!;
    if (typeof v === 'number') {
      if (!Number.isFinite(v) || v < 0) return { path: here || '(value)', value: v };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i] as unknown, at: `${here}[${i}]` });
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) stack.push({ v: x, at: here ? `${here}.${k}` : k });
    }
  }
  return null;
}

export function assertSoundFigures<T>(value: T, where: string): T {
  const bad = firstBadFigure(value);
  if (bad) throw new MemlensError(`${where}: internal: the figure ${bad.path.slice(0, 120)} came out ${bad.value}; no result is given (please report the model)`);
  return value;
}
