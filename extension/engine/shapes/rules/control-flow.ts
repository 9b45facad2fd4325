// Control flow: If, Loop and Scan, typed from their subgraphs, which are inferred in the outer
// scope with their formal inputs seeded from the node's inputs.
import type { Dim } from '../../graph';
import type { InferredTensor, RuleTable, ShapeRule } from '../types';
import { normAxis } from '../dim-math';
import { like, scalarOf, typed } from './util';

/** What is true of a value that may come from either of two places (branches, iterations). */
export function join(a: InferredTensor | null | undefined, b: InferredTensor | null | undefined): InferredTensor | null {
  if (!a) return b ? like(b) : null;
  if (!b) return like(a);
  const dtype = a.dtype !== 'undefined' ? a.dtype : b.dtype;
  if (!a.shape || !b.shape || a.shape.length !== b.shape.length) return typed(dtype, null);
  return typed(dtype, a.shape.map((d, i) => (d === b.shape![i] ? d : null)));
}

/** If: the branch a folded condition selects, else what both branches agree on. */
const ifOp: ShapeRule = (node, [cond], ctx) => {
  const c = scalarOf(cond);
  if (c !== undefined) {
    const taken = ctx.subgraphOutputs(c !== 0 ? 'then_branch' : 'else_branch');
    return node.outputs.map((_o, i) => taken?.[i] ?? null);
  }
  const then = ctx.subgraphOutputs('then_branch');
  const other = ctx.subgraphOutputs('else_branch');
  return node.outputs.map((_o, i) => join(then?.[i], other?.[i]));
};

/**
 * Loop(M, cond, v_initial...): body(iter, cond, v...) -> (cond, v..., scan...). Carried values keep
 * the dims that do not change across iterations; scan outputs stack one slice per iteration, M of
 * them when M is a folded constant and the loop has no condition that could stop it early.
 */
const loop: ShapeRule = (node, inputs, ctx) => {
  const [m, cond, ...initial] = inputs;
  const seeds = [typed('int64', []), typed('bool', []), ...initial.map((t) => like(t) ?? undefined)];
  const body = ctx.subgraphOutputs('body', seeds);
  const n = initial.length;
  const condValue = scalarOf(cond);
  const trips: Dim = (cond === undefined || condValue === 1) ? scalarOf(m) ?? null : null;
  return node.outputs.map((_o, i) => {
    const out = body?.[1 + i];
    if (i < n) return join(initial[i], out);
    return out ? typed(out.dtype, out.shape ? [trips, ...out.shape] : null) : null;
  });
};

/** Scan (opset >= 9): N states then M scan inputs; K scan outputs gain the sequence axis. */
const scan: ShapeRule = (node, inputs, ctx) => {
  const m = ctx.int('num_scan_inputs', 0);
  const n = inputs.length - m;
  const inAxes = ctx.ints('scan_input_axes') ?? new Array<number>(m).fill(0);
  const outAxes = ctx.ints('scan_output_axes');
  let seqLen: Dim = null;
  const seeds: (InferredTensor | undefined)[] = inputs.slice(0, n).map((t) => like(t) ?? undefined);
  for (let j = 0; j < m; j++) {
    const t = inputs[n + j];
    if (!t?.shape) {
      seeds.push(t ? typed(t.dtype, null) : undefined);
      continue;
    }
    const axis = normAxis(inAxes[j] ?? 0, t.shape.length);
    if (j === 0) seqLen = t.shape[axis];
    seeds.push(typed(t.dtype, t.shape.filter((_d, i) => i !== axis)));
  }
  const body = ctx.subgraphOutputs('body', seeds);
  return node.outputs.map((_o, i) => {
    const out = body?.[i];
    if (i < n) return join(inputs[i], out);
    if (!out?.shape) return out ? typed(out.dtype, null) : null;
    const shape = out.shape.slice();
    shape.splice(normAxis(outAxes?.[i - n] ?? 0, shape.length + 1), 0, seqLen);
    return typed(out.dtype, shape);
  });
};

export const controlFlowRules: RuleTable = {
  '': { If: ifOp, Loop: loop, Scan: scan },
};
