// Einsum: output dims from the equation's labels (explicit `->` or numpy's implicit form),
// with `...` broadcast across operands.
import type { Dim } from '../../graph';
import type { InferredTensor, RuleTable, ShapeRule } from '../types';
import { broadcast } from '../dim-math';
import { ShapeError } from '../shape-error';
import { typed } from './util';

const ELLIPSIS = '...';

function labels(term: string): { before: string[]; after: string[]; ellipsis: boolean } {
  const at = term.indexOf(ELLIPSIS);
  if (at < 0) return { before: [...term], after: [], ellipsis: false };
  return { before: [...term.slice(0, at)], after: [...term.slice(at + ELLIPSIS.length)], ellipsis: true };
}

export function einsumShape(equation: string, shapes: (Dim[] | null)[]): Dim[] | null {
  const eq = equation.replace(/\s+/g, '');
  const [lhs, rhs] = eq.split('->');
  const terms = lhs.split(',');
  if (terms.length !== shapes.length) throw new ShapeError(`Einsum equation '${equation}' names ${terms.length} operands, got ${shapes.length}`);
  const sizes = new Map<string, Dim>();
  const counts = new Map<string, number>();
  let ellipsisDims: Dim[] = [];
  for (let i = 0; i < terms.length; i++) {
    const shape = shapes[i];
    const { before, after, ellipsis } = labels(terms[i]);
    for (const l of [...before, ...after]) counts.set(l, (counts.get(l) ?? 0) + 1);
    if (!shape) return null;
    const named = before.length + after.length;
    if (ellipsis ? shape.length < named : shape.length !== named) {
      throw new ShapeError(`Einsum operand ${i} has rank ${shape.length}, term '${terms[i]}' needs ${named}`);
    }
    const ell = shape.length - named;
    const assign = (l: string, d: Dim) => {
      const prev = sizes.get(l);
      if (prev === undefined || prev === 1) sizes.set(l, d);
      else if (typeof prev === 'number' && typeof d === 'number' && d !== prev && d !== 1) {
        throw new ShapeError(`Einsum label '${l}' is ${prev} in one operand and ${d} in another`);
      } else if (typeof prev !== 'number' && typeof d === 'number' && d !== 1) sizes.set(l, d);
    };
    before.forEach((l, k) => assign(l, shape[k]));
    after.forEach((l, k) => assign(l, shape[before.length + ell + k]));
    if (ellipsis) ellipsisDims = broadcast(ellipsisDims, shape.slice(before.length, before.length + ell));
  }
  if (rhs === undefined) {
    const single = [...counts.entries()].filter(([, c]) => c === 1).map(([l]) => l).sort();
    return [...ellipsisDims, ...single.map((l) => sizes.get(l) ?? null)];
  }
  const { before, after, ellipsis } = labels(rhs);
  const dim = (l: string) => {
    if (!sizes.has(l)) throw new ShapeError(`Einsum output label '${l}' is not in any operand`);
    return sizes.get(l)!;
  };
  return [...before.map(dim), ...(ellipsis ? ellipsisDims : []), ...after.map(dim)];
}

const einsum: ShapeRule = (_node, inputs, ctx) => {
  const present = inputs.filter((t): t is InferredTensor => t !== undefined);
  if (present.length === 0) return [null];
  const eq = ctx.string('equation', '');
  if (!eq) throw new ShapeError('Einsum needs an equation');
  return [typed(present[0].dtype, einsumShape(eq, present.map((t) => t.shape)))];
};

export const einsumRules: RuleTable = { '': { Einsum: einsum } };
