// The optimizer's share of a training step: its state per trainable parameter, live for the whole
// step (optimizer.ts has the bytes per parameter), and the update's temporary at the last step.
import type { AnalysisSettings } from '../settings';
import { nodeOwner, type Buffer, type TrainingStep } from './buffer-types';
import { optimizerCost } from './optimizer';
import type { TensorTable } from './tensor-table';

export function optimizerPass(table: TensorTable, trainable: Set<string>, settings: AnalysisSettings, step: TrainingStep, last: number): Buffer[] {
  const opt = optimizerCost(settings.optimizer, settings.dtype);
  const out: Buffer[] = [];
  let largest = 0;
  for (const name of trainable) {
    const rec = table.tensors.get(name);
    if (!rec) continue;
    largest = Math.max(largest, rec.elements);
    const bytes = Math.ceil(rec.elements * opt.stateBytesPerParam);
    if (bytes === 0) continue;
    const start = stateBirth(step);
    out.push({ bytes, category: 'optimizerState', start, end: last, owner: nodeOwner(rec.consumers[0]), persistent: start === 0, kind: 'optimizer', parameter: name });
  }
  const temporary = updateTemporaryBytes(step, settings, largest);
  if (temporary > 0) {
    out.push({ bytes: temporary, category: 'other', start: last, end: last, owner: { kind: 'optimizer-step' }, persistent: false, kind: 'workspace', use: { kind: 'optimizer-step' } });
  }
  return out;
}

/** First step the optimizer state is live. */
function stateBirth(step: TrainingStep): number {
  switch (step.optimizerState) {
    case 'steady':
      return 0; // made by an earlier step, held across steps
  }
}

/** Bytes the update itself allocates: Adam-style and momentum updates keep one fp32 temporary of the largest parameter. */
function updateTemporaryBytes(step: TrainingStep, settings: AnalysisSettings, largestElements: number): number {
  if (settings.optimizer === 'none' || settings.optimizer === 'sgd' || largestElements === 0) return 0;
  switch (step.temporaries) {
    case 'largest-parameter':
      return largestElements * 4;
  }
}
