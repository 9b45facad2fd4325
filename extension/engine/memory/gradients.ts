// Gradients in backward: one buffer per alias group that needs one (the gradient of a view is a
// view of the gradient), born at the backward step of the group's last forward reader. An
// activation's gradient dies at its producer's backward step; a parameter's lives through the
// optimizer step, in the compute precision (bf16/fp16 under mixed precision). A parameter whose
// `.grad` PyTorch keeps as a view of a Concat's output gradient (grad-views.ts) holds that whole
// gradient instead, taken over at the Concat's backward.
import type { AnalysisSettings } from '../settings';
import { nodeOwner, type Buffer, type TrainingStep } from './buffer-types';
import type { Aliases } from './activations';
import type { StolenGradient } from './grad-views';
import { firstBackwardStep, type Schedule } from './schedule';
import type { TensorRecord, TensorTable } from './tensor-table';

export interface GradientInputs {
  schedule: Schedule;
  trainable: Set<string>;
  aliases: Aliases;
  settings: AnalysisSettings;
  step: TrainingStep;
  /** Parameters whose `.grad` is a view of a Concat's output gradient (grad-views.ts stolenGradients). */
  stolen?: readonly StolenGradient[];
}

/** Members of each alias group that need a gradient, by group root. */
function gradientGroups(table: TensorTable, inputs: GradientInputs): Map<string, TensorRecord[]> {
  const groups = new Map<string, TensorRecord[]>();
  for (const name of inputs.schedule.requiresGrad) {
    const rec = table.tensors.get(name);
    if (!rec) continue;
    const r = inputs.aliases.rootOf(name);
    const list = groups.get(r) ?? [];
    list.push(rec);
    groups.set(r, list);
  }
  return groups;
}

/** The backward step where a group's gradient is born, or null when no backward step reads it. */
function birthStep(members: TensorRecord[], schedule: Schedule, firstBackward: number): number | null {
  let start = Infinity;
  for (const m of members) {
    for (const c of m.consumers) {
      const s = schedule.backwardStep.get(c);
      if (s !== undefined) start = Math.min(start, s);
    }
    if (m.isGraphOutput) start = Math.min(start, firstBackward);
  }
  return Number.isFinite(start) ? start : null;
}

/** How stolen views change the buffers: each parameter's bytes and where it is born; each base's early end. */
interface Takeover {
  /** Parameter -> its bytes (its share of the base) and the Concat's backward step. */
  parameters: Map<string, { bytes: number; start: number; base: string }>;
  /** Base's alias root -> the last step its own gradient buffer holds the storage (the step before the hand-over). */
  baseEnds: Map<string, number>;
}

/**
 * A stolen base's storage is counted once: each parameter keeps its own bytes and the first
 * the rest of the base. After zero_grad(set_to_none=False) the kept `.grad` is that view from the
 * previous step and the new gradient is added into it, so only the bytes move, not the hand-over.
 */
function takeover(table: TensorTable, inputs: GradientInputs, gradientBytes: (r: TensorRecord) => number, kept: boolean): Takeover {
  const parameters = new Map<string, { bytes: number; start: number; base: string }>();
  const baseEnds = new Map<string, number>();
  const byBase = new Map<string, StolenGradient[]>();
  for (const s of inputs.stolen ?? []) byBase.set(inputs.aliases.rootOf(s.base), [...(byBase.get(inputs.aliases.rootOf(s.base)) ?? []), s]);
  for (const [root, stolen] of byBase) {
    const baseRec = table.tensors.get(root);
    const start = inputs.schedule.backwardStep.get(stolen[0].concat);
    if (!baseRec || start === undefined) continue;
    const own = stolen.map((s) => { const rec = table.tensors.get(s.parameter); return rec ? gradientBytes(rec) : 0; });
    const rest = Math.max(0, baseRec.bytes - own.reduce((a, b) => a + b, 0));
    stolen.forEach((s, i) => parameters.set(s.parameter, { bytes: own[i] + (i === 0 ? rest : 0), start, base: s.base }));
    if (!kept) baseEnds.set(root, start - 1);
  }
  return { parameters, baseEnds };
}

export function gradientPass(table: TensorTable, inputs: GradientInputs): Buffer[] {
  const { schedule, trainable, settings } = inputs;
  const firstBackward = firstBackwardStep(schedule);
  const bits = settings.dtype === 'fp32' ? 32 : 16;
  const paramBytes = (rec: TensorRecord) => Math.ceil((rec.elements * bits) / 8);
  // zero_grad(set_to_none=False) after an earlier step: the gradient is there from the start.
  const kept = inputs.step.gradients === 'zero' && inputs.step.optimizerState === 'steady';
  const views = takeover(table, inputs, paramBytes, kept);
  const out: Buffer[] = [];
  for (const [r, members] of gradientGroups(table, inputs)) {
    const rootRec = table.tensors.get(r);
    if (!rootRec || (!schedule.requiresGrad.has(r) && rootRec.producer !== null)) continue;
    const start = birthStep(members, schedule, firstBackward);
    if (start === null) continue;
    const owner = nodeOwner(rootRec.consumers[0]);
    if (trainable.has(r)) {
      const view = views.parameters.get(r);
      const bytes = view?.bytes ?? paramBytes(rootRec);
      const from = kept ? 0 : view?.start ?? start;
      out.push({ bytes, category: 'gradients', start: from, end: schedule.last, owner, persistent: kept, kind: 'gradient', tensor: r, parameter: true, ...(view ? { viewOf: view.base } : {}) });
      // AccumulateGrad into an existing .grad adds the op's new gradient in place (`variable_grad
      // += new_grad`), so that gradient is a buffer of its own for the step; into None it is
      // stolen. A view of a Concat's gradient is no buffer of its own.
      const maker = members.flatMap((m) => m.consumers).find((c) => schedule.backwardStep.get(c) === start);
      if (kept && !view && maker !== undefined) out.push({ bytes, category: 'gradients', start, end: start, owner, persistent: false, kind: 'workspace', use: { kind: 'backward', node: maker } });
    } else {
      const producer = rootRec.producer ?? undefined;
      const end = (producer === undefined ? undefined : schedule.backwardStep.get(producer)) ?? start;
      const handover = views.baseEnds.get(r);
      out.push({ bytes: rootRec.bytes, category: 'activations', start, end: handover === undefined ? end : Math.max(start, handover), owner: nodeOwner(producer), persistent: false, kind: 'gradient', tensor: r, parameter: false });
    }
  }
  return out;
}
