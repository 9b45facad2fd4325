// Small helpers shared by the rule families.
import type { DType, Dim } from '../../graph';
import type { InferredTensor, ShapeRuleContext } from '../types';
import { ShapeError } from '../shape-error';

export type Inputs = (InferredTensor | undefined)[];
export type Outputs = (InferredTensor | null)[];

/** Same type as the input (a sequence stays a sequence), without folded values. */
export function like(t: InferredTensor | undefined): InferredTensor | null {
  if (!t) return null;
  return t.sequence ? { dtype: t.dtype, shape: t.shape, sequence: t.sequence } : { dtype: t.dtype, shape: t.shape };
}

/** Type of a tensor; null shape when rank is unknown. */
export function typed(dtype: DType | undefined, shape: Dim[] | null): InferredTensor {
  return { dtype: dtype ?? 'undefined', shape };
}

/**
 * A list parameter that moved from an attribute to an input across opsets (axes, split, pads,
 * starts/ends). `absent` when neither is given, `unknown` when an input gives it but its values
 * were not folded.
 */
export type ListParam = { kind: 'given'; values: number[] } | { kind: 'absent' } | { kind: 'unknown'; length: Dim };

export function listParam(inputs: Inputs, index: number, ctx: ShapeRuleContext, attr: string): ListParam {
  const t = inputs[index];
  if (t) {
    if (t.value) return { kind: 'given', values: t.value };
    return { kind: 'unknown', length: t.shape && t.shape.length === 1 ? t.shape[0] : t.shape?.length === 0 ? 1 : null };
  }
  const a = ctx.ints(attr);
  return a ? { kind: 'given', values: a } : { kind: 'absent' };
}

/** Scalar integer from an input's folded value (Range bounds, TopK's K). */
export function scalarOf(t: InferredTensor | undefined): number | undefined {
  return t?.value && t.value.length === 1 ? t.value[0] : undefined;
}

/** Sorted, normalised, duplicate-checked axes. */
export function normAxes(axes: number[], rank: number): number[] {
  const out = axes.map((a) => {
    const n = a < 0 ? a + rank : a;
    if (n < 0 || n >= rank) throw new ShapeError(`axis ${a} is out of range for rank ${rank}`);
    return n;
  });
  if (new Set(out).size !== out.length) throw new ShapeError(`repeated axis in [${axes.join(',')}]`);
  return out.sort((x, y) => x - y);
}
