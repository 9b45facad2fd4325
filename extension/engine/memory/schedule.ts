// The step sequence. Inference: one step per node in execution order. Training: the forward
// steps, then a backward step for each node with an input that needs a gradient (in reverse
// order), then one optimizer step.
import type { Step } from './buffer-types';
import type { TensorTable } from './tensor-table';

export interface Schedule {
  steps: Step[];
  /** Forward position -> index of its backward step (training; empty in inference). */
  backwardStep: Map<number, number>;
  /** Tensors that need a gradient: trainable weights and float tensors computed from them. */
  requiresGrad: Set<string>;
  /** Index of the last step. */
  last: number;
  /**
   * The loss's backward (training with a recognised loss): a step before the output's producer's
   * own backward, attributed to that producer; null when the graph ends at the loss or none is known.
   */
  lossStep: number | null;
  /** The graph output the loss reads (set with lossStep), and the step the loss's forward shares (the last forward step). */
  lossOutput: string | null;
  lossForward: number;
}

export function inferenceSchedule(table: TensorTable): Schedule {
  const steps: Step[] = table.nodes.map((_, node) => ({ phase: 'forward', node }));
  return { steps, backwardStep: new Map(), requiresGrad: new Set(), last: steps.length - 1, lossStep: null, lossOutput: null, lossForward: steps.length - 1 };
}

export function trainingSchedule(table: TensorTable, trainable: Set<string>, lossOutput: string | null = null): Schedule {
  const steps: Step[] = table.nodes.map((_, node) => ({ phase: 'forward', node }));
  const requiresGrad = gradientFlow(table, trainable);
  const backwardStep = new Map<number, number>();
  const lossProducer = lossOutput === null ? null : table.tensors.get(lossOutput)?.producer ?? null;
  const lossStep = lossProducer === null || !requiresGrad.has(lossOutput ?? '') ? null : steps.length;
  if (lossStep !== null && lossProducer !== null) steps.push({ phase: 'backward', node: lossProducer });
  for (let pos = table.nodes.length - 1; pos >= 0; pos--) {
    if (!table.nodes[pos].inputs.some((x) => requiresGrad.has(x))) continue;
    backwardStep.set(pos, steps.length);
    steps.push({ phase: 'backward', node: pos });
  }
  steps.push({ phase: 'optimizer' });
  return { steps, backwardStep, requiresGrad, last: steps.length - 1, lossStep, lossOutput: lossStep === null ? null : lossOutput, lossForward: table.nodes.length - 1 };
}

/** Trainable weights and the float tensors computed from them, in one pass over the execution order. */
function gradientFlow(table: TensorTable, trainable: Set<string>): Set<string> {
  const rg = new Set<string>(trainable);
  for (const node of table.nodes) {
    if (!node.inputs.some((x) => rg.has(x))) continue;
    for (const o of node.outputs) {
      const rec = o ? table.tensors.get(o) : undefined;
      if (rec?.isFloat) rg.add(o);
    }
  }
  return rg;
}

/** The first backward step (the loss's, else the backward of the last forward node that has one); `last` when none. */
export function firstBackwardStep(schedule: Schedule): number {
  if (schedule.lossStep !== null) return schedule.lossStep;
  let first = schedule.last;
  for (const s of schedule.backwardStep.values()) first = Math.min(first, s);
  return first;
}
