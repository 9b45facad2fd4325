// Gradients in backward: one buffer per alias group that needs one (the gradient of a view is a
// view of the gradient), born at the backward step of the group's last forward reader. An
// activation's gradient dies at its producer's backward step; a parameter's lives through the
// optimizer step, in the compute precision (bf16/fp16 under mixed precision).
import type { AnalysisSettings } from '../settings';
import { nodeOwner, type Buffer, type TrainingStep } from './buffer-types';
import type { Aliases } from './activations';
import { firstBackwardStep, type Schedule } from './schedule';
import type { TensorRecord, TensorTable } from './tensor-table';

export interface GradientInputs {
  schedule: Schedule;
  trainable: Set<string>;
  aliases: Aliases;
  settings: AnalysisSettings;
  step: TrainingStep;
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

export function gradientPass(table: TensorTable, inputs: GradientInputs): Buffer[] {
  const { schedule, trainable, settings } = inputs;
  const firstBackward = firstBackwardStep(schedule);
  const out: Buffer[] = [];
  for (const [r, members] of gradientGroups(table, inputs)) {
    const rootRec = table.tensors.get(r);
    if (!rootRec || (!schedule.requiresGrad.has(r) && rootRec.producer !== null)) continue;
    const start = birthStep(members, schedule, firstBackward);
    if (start === null) continue;
    if (trainable.has(r)) {
      const bits = settings.dtype === 'fp32' ? 32 : 16;
      const bytes = Math.ceil((rootRec.elements * bits) / 8);
      // zero_grad(set_to_none=False) after an earlier step: the gradient is there from the start.
      const kept = inputs.step.gradients === 'zero' && inputs.step.optimizerState === 'steady';
      out.push({ bytes, category: 'gradients', start: kept ? 0 : start, end: schedule.last, owner: nodeOwner(rootRec.consumers[0]), persistent: kept, kind: 'gradient', tensor: r, parameter: true });
      // AccumulateGrad into an existing .grad adds the op's new gradient in place (`variable_grad
      // += new_grad`), so that gradient is a buffer of its own for the step; into None it is stolen.
      const maker = members.flatMap((m) => m.consumers).find((c) => schedule.backwardStep.get(c) === start);
      if (kept && maker !== undefined) out.push({ bytes, category: 'gradients', start, end: start, owner: nodeOwner(rootRec.consumers[0]), persistent: false, kind: 'workspace', use: { kind: 'backward', node: maker } });
    } else {
      const producer = rootRec.producer ?? undefined;
      const end = (producer === undefined ? undefined : schedule.backwardStep.get(producer)) ?? start;
      out.push({ bytes: rootRec.bytes, category: 'activations', start, end, owner: nodeOwner(producer), persistent: false, kind: 'gradient', tensor: r, parameter: false });
    }
  }
  return out;
}
