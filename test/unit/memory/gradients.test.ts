// The gradient pass: one gradient per alias group that needs one, born at the backward step of
// its last reader; an activation's dies at its producer's backward, a parameter's at the update.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aliasGroups } from '../../../extension/engine/memory/activations';
import { STEADY_STATE, ownerPos, type Buffer, type TrainingStep } from '../../../extension/engine/memory/buffer-types';
import { gradientPass } from '../../../extension/engine/memory/gradients';
import { trainingSchedule } from '../../../extension/engine/memory/schedule';
import { mlpWithLoss, tabled } from './graphs';

function gradients(dtype: 'fp32' | 'bf16', step: TrainingStep = STEADY_STATE): Buffer[] {
  const t = tabled(mlpWithLoss(), { mode: 'train', dtype });
  const trainable = new Set(['W1', 'W2']);
  const schedule = trainingSchedule(t.table, trainable);
  const { aliases } = aliasGroups(t.table, { schedule, savedUntil: new Map(), splits: new Map(), settings: t.settings, options: { frozen: new Set() } });
  return gradientPass(t.table, { schedule, trainable, aliases, settings: t.settings, step });
}

const row = (b: Buffer) => (b.kind === 'gradient' ? [b.tensor, b.parameter, b.category, b.start, b.end, b.bytes, ownerPos(b)] : null);

test('backward steps sum 4, fc2 5, relu 6, fc1 7, update 8: each gradient from its reader\'s backward to its producer\'s', () => {
  assert.deepEqual(gradients('fp32').map(row).sort(), [
    ['W1', true, 'gradients', 7, 8, 128, 0],
    ['W2', true, 'gradients', 5, 8, 96, 2],
    ['h', false, 'activations', 6, 7, 64, 0],
    // The loss is a graph output: its gradient (the seed) exists from the first backward step.
    ['loss', false, 'activations', 4, 4, 4, 3],
    ['r', false, 'activations', 5, 6, 64, 1],
    ['y', false, 'activations', 4, 5, 24, 2],
  ]);
});

test('under bf16 mixed precision parameter gradients take 2 bytes per element', () => {
  const byTensor = new Map(gradients('bf16').map((b) => [b.kind === 'gradient' ? b.tensor : '', b.bytes]));
  assert.equal(byTensor.get('W1'), 32 * 2);
  assert.equal(byTensor.get('W2'), 24 * 2);
  assert.equal(byTensor.get('h'), 16 * 2);
});

test('zero_grad(set_to_none=False) in a later step: parameter gradients are live from the first step; in the first step they are made in backward', () => {
  const all = gradients('fp32', { ...STEADY_STATE, gradients: 'zero' });
  const kept = all.filter((b) => b.kind === 'gradient' && b.parameter);
  assert.deepEqual(kept.map((b) => [b.kind === 'gradient' ? b.tensor : '', b.start, b.end, b.persistent]).sort(), [['W1', 0, 8, true], ['W2', 0, 8, true]]);
  // AccumulateGrad adds each new gradient into the kept one: a parameter-sized buffer at its backward step.
  assert.deepEqual(all.filter((b) => b.kind === 'workspace').map((b) => [b.start, b.end, b.bytes]).sort(), [[5, 5, 96], [7, 7, 128]]);
  const first = gradients('fp32', { ...STEADY_STATE, gradients: 'zero', optimizerState: 'first' }).filter((b) => b.kind === 'gradient' && b.parameter);
  assert.deepEqual(first.map((b) => [b.kind === 'gradient' ? b.tensor : '', b.start]).sort(), [['W1', 7], ['W2', 5]]);
});
