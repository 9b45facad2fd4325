// The optimizer's share of a training step: its state per trainable parameter, live for the whole
// step (optimizer.ts has the bytes per parameter), and the update's temporaries at the last step,
// attributed to the line that first uses the parameter they are the size of.
import type { AnalysisSettings } from '../settings';
import { nodeOwner, type Buffer, type TrainingStep } from './buffer-types';
import { optimizerCost } from './optimizer';
import type { TensorTable } from './tensor-table';

export function optimizerPass(table: TensorTable, trainable: Set<string>, settings: AnalysisSettings, step: TrainingStep, last: number): Buffer[] {
  const opt = optimizerCost(settings.optimizer, settings.dtype);
  const out: Buffer[] = [];
  let largest: { name: string; elements: number; owner: Buffer['owner'] } | null = null;
  const each: { name: string; elements: number; owner: Buffer['owner'] }[] = [];
  for (const name of trainable) {
    const rec = table.tensors.get(name);
    if (!rec) continue;
    const param = { name, elements: rec.elements, owner: nodeOwner(rec.consumers[0]) };
    if (!largest || rec.elements > largest.elements) largest = param;
    each.push(param);
    const bytes = Math.ceil(rec.elements * opt.stateBytesPerParam);
    if (bytes === 0) continue;
    const start = step.optimizerState === 'steady' ? 0 : last; // the first step() makes its state (zeros_like) before updating
    out.push({ bytes, category: 'optimizerState', start, end: last, owner: nodeOwner(rec.consumers[0]), persistent: start === 0, kind: 'optimizer', parameter: name });
  }
  const count = temporaryCount(settings, step);
  // foreach ops make copies of every parameter; a loop over parameters, of one at a time (the largest).
  const sized = step.implementation === 'foreach' ? each : largest ? [largest] : [];
  for (const p of sized) {
    if (count === 0 || p.elements === 0) continue;
    out.push({
      bytes: count * p.elements * 4, category: 'optimizerStep', start: last, end: last, owner: p.owner, persistent: false,
      kind: 'workspace', use: { kind: 'optimizer-step', implementation: step.implementation, count, parameter: p.name },
    });
  }
  return out;
}

/**
 * Parameter-sized fp32 temporaries the update holds at once (torch/optim/adamw.py, adam.py):
 * - single-tensor Adam(W): `denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)` holds
 *   the sqrt and the quotient of one parameter together: 2 of the largest;
 * - foreach: `_foreach_sqrt` then `_foreach_add(exp_avg_sq_sqrt, eps)` (1.x) holds two copies of
 *   every parameter; 2.x adds eps in place (`_foreach_add_`): one copy;
 * - fused: one kernel updates in place, no temporaries;
 * - SGD with momentum updates the buffer and the parameter in place (`buf.mul_().add_()`).
 * bitsandbytes' 8-bit Adam is counted as one dequantised tensor of the largest parameter.
 */
function temporaryCount(settings: AnalysisSettings, step: TrainingStep): number {
  switch (settings.optimizer) {
    case 'none': case 'sgd': case 'sgd-momentum': return 0;
    case 'adam8bit': return 1;
    case 'adam': case 'adamw':
      if (step.implementation === 'fused') return 0;
      if (step.implementation === 'foreach') return step.torchMajor !== null && step.torchMajor < 2 ? 2 : 1;
      return 2;
  }
}
