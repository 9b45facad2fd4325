// Control flow: If, Loop and Scan, typed from their subgraphs, which are inferred in the outer
// scope with their formal inputs seeded from the node's inputs. An If whose condition is not known
// statically is sized by the branch the settings pin, else by its larger branch, and says so.
import type { Dim, GraphNode } from '../../graph';
import { dtypeBits, elementCount } from '../../graph';
import { MemlensError } from '../../errors';
import { formatBytes } from '../../units';
import { branchWord } from '../../settings';
import type { InferredTensor, RuleTable, ShapeRule, ShapeRuleContext } from '../types';
import { fmtShape, normAxis } from '../dim-math';
import { sequenceOf } from './sequence';
import { like, scalarOf, typed } from './util';

/** What is true of a value that may come from either of two places (branches, iterations). */
export function join(a: InferredTensor | null | undefined, b: InferredTensor | null | undefined): InferredTensor | null {
  if (!a) return b ? like(b) : null;
  if (!b) return like(a);
  const dtype = a.dtype !== 'undefined' ? a.dtype : b.dtype;
  const shape = !a.shape || !b.shape || a.shape.length !== b.shape.length ? null : a.shape.map((d, i) => (d === b.shape![i] ? d : null));
  if (a.sequence || b.sequence) {
    const length = a.sequence && b.sequence && a.sequence.length === b.sequence.length ? a.sequence.length : null;
    return sequenceOf(dtype, shape, length);
  }
  return typed(dtype, shape);
}

type Branch = 'then_branch' | 'else_branch';
type BranchShapes = { outputs: InferredTensor[] | undefined } | { error: string };

/** A branch's output types, or why its shapes do not fit the inputs (it cannot be the one that runs). */
function branchShapes(ctx: ShapeRuleContext, attr: Branch): BranchShapes {
  try {
    return { outputs: ctx.subgraphOutputs(attr) };
  } catch (e) {
    if (e instanceof MemlensError) return { error: e.message };
    throw e;
  }
}

/** Bytes of tensors, or null when any size is unknown. */
function tensorBytes(tensors: Iterable<InferredTensor>): number | null {
  let total = 0;
  for (const t of tensors) {
    const n = elementCount(t.shape);
    if (n === null || t.dtype === 'undefined') return null;
    total += Math.ceil((n * dtypeBits(t.dtype)) / 8);
  }
  return total;
}

function sameOutputs(a: InferredTensor[], b: InferredTensor[]): boolean {
  return a.length === b.length && a.every((t, i) => t.dtype === b[i].dtype && fmtShape(t.shape) === fmtShape(b[i].shape));
}

/** What a branch holds: its outputs and every tensor it makes (its own initializers and node outputs). */
function branchBytes(ctx: ShapeRuleContext, attr: Branch, outputs: InferredTensor[] | undefined): number | null {
  const body = ctx.subgraphTensors(attr);
  if (!outputs || !body) return null;
  return tensorBytes(body.values());
}

const otherBranch = (b: Branch): Branch => (b === 'then_branch' ? 'else_branch' : 'then_branch');

/** The outputs of the branch a pin names, or null (with a warning) when its shapes cannot fit the inputs. */
function pinnedOutputs(node: GraphNode, ctx: ShapeRuleContext, pin: Branch): (InferredTensor | null)[] | null {
  const shapes = branchShapes(ctx, pin);
  if ('error' in shapes) {
    ctx.warn(`--branch ${node.name}=${branchWord(pin)} is ignored: ${pin} does not fit these input shapes (${shapes.error})`);
    return null;
  }
  ctx.chooseBranch({ taken: pin, why: 'pinned' });
  return node.outputs.map((_o, i) => shapes.outputs?.[i] ?? null);
}

/**
 * If: the branch a folded condition selects; else the branch the settings pin; otherwise the
 * branch whose tensors take more bytes, so the estimate holds whichever runs (said in a warning
 * that names the pin sizing the other, unless both are alike); a branch whose shapes cannot fit
 * the inputs is left out; when a size is unknown, what both branches agree on.
 */
const ifOp: ShapeRule = (node, [cond], ctx) => {
  const c = scalarOf(cond);
  const pin = ctx.pinnedBranch();
  if (c !== undefined) {
    const taken: Branch = c !== 0 ? 'then_branch' : 'else_branch';
    if (pin !== undefined && pin !== taken) ctx.warn(`--branch ${node.name}=${branchWord(pin)} is ignored: the condition is known statically and selects ${taken}`);
    ctx.chooseBranch({ taken, why: 'condition' });
    const outputs = ctx.subgraphOutputs(taken);
    return node.outputs.map((_o, i) => outputs?.[i] ?? null);
  }
  const pinned = pin !== undefined ? pinnedOutputs(node, ctx, pin) : null;
  if (pinned) return pinned;
  const then = branchShapes(ctx, 'then_branch');
  const other = branchShapes(ctx, 'else_branch');
    // Counted as a failed rule: declared shapes stand in, and the rest of the model is still analysed.
  if ('error' in then && 'error' in other) throw new Error(`neither branch fits the inputs: ${then.error}`);
  if ('error' in then || 'error' in other) {
    const [taken, dropped, error] = 'error' in then ? ['else_branch', 'then_branch', then.error] as const : ['then_branch', 'else_branch', (other as { error: string }).error] as const;
    ctx.chooseBranch({ taken, why: 'only-valid' });
    ctx.warn(`condition not known statically; sized by ${taken}, since ${dropped} does not fit these input shapes (${error})`);
    const outputs = ('error' in then ? other : then) as { outputs: InferredTensor[] | undefined };
    return node.outputs.map((_o, i) => outputs.outputs?.[i] ?? null);
  }
  const [a, b] = [then.outputs, other.outputs];
  const [bytesA, bytesB] = [branchBytes(ctx, 'then_branch', a), branchBytes(ctx, 'else_branch', b)];
  if (bytesA === null || bytesB === null) return node.outputs.map((_o, i) => join(a?.[i], b?.[i]));
  const taken: Branch = bytesA >= bytesB ? 'then_branch' : 'else_branch';
  ctx.chooseBranch({ taken, why: 'larger' });
  if (!sameOutputs(a!, b!) || bytesA !== bytesB) {
    ctx.warn(`condition not known statically; sized by ${taken}, the larger branch (${formatBytes(Math.max(bytesA, bytesB))} of tensors against ${formatBytes(Math.min(bytesA, bytesB))}); ` +
      `--branch ${node.name}=${branchWord(otherBranch(taken))} (memlens.branches in the editor) sizes ${otherBranch(taken)} when that is the one that runs`);
  }
  const outputs = taken === 'then_branch' ? a! : b!;
  return node.outputs.map((_o, i) => outputs[i] ?? null);
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
    if (i < n) return initial[i]?.sequence && out?.sequence ? grownSequence(initial[i], out, trips) : join(initial[i], out);
    return out ? typed(out.dtype, out.shape ? [trips, ...out.shape] : null) : null;
  });
};

/**
 * A sequence a Loop carries: the body, seeded with the initial length, returns that length plus
 * what one iteration appends, so after `trips` iterations it holds initial + trips x appended.
 */
function grownSequence(initial: InferredTensor, out: InferredTensor, trips: Dim): InferredTensor {
  const [l0, l1] = [initial.sequence!.length, out.sequence!.length];
  const length = typeof l0 === 'number' && typeof l1 === 'number' && typeof trips === 'number' ? l0 + trips * (l1 - l0) : null;
  const shape = l0 === 0 ? out.shape : join(initial, out)?.shape ?? null;
  return sequenceOf(out.dtype !== 'undefined' ? out.dtype : initial.dtype, shape, length);
}

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
