// The region passes: a checkpoint region's recompute step, and the two device lifetimes of a
// saved tensor produced inside a checkpointed or offloaded region.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkpointRegions, regionSplits } from '../../../extension/engine/memory/regions';
import { trainingSchedule } from '../../../extension/engine/memory/schedule';
import { mlpWithLoss, tabled } from './graphs';

// Backward steps: sum 4, fc2 5, relu 6, fc1 7. Saved: r until relu's backward (6), W2 until 5, x until 7.
const savedUntil = new Map([['r', 6], ['W2', 5], ['x', 7]]);

function passes(region: 'none' | 'checkpoint' | 'offload') {
  const { table } = tabled(mlpWithLoss(region), { mode: 'train' });
  const schedule = trainingSchedule(table, new Set(['W1', 'W2']));
  const regions = checkpointRegions(table, schedule);
  return { regions, splits: regionSplits(table, schedule, savedUntil, regions) };
}

test('a checkpoint region is recomputed at its first backward step (fc2, step 5)', () => {
  const { regions, splits } = passes('checkpoint');
  assert.deepEqual([...regions.start], [['ckpt:a', 5]]);
  assert.deepEqual([0, 1, 2, 3].map((p) => regions.recomputeStepOf(p)), [5, 5, 5, null]);
  // r is made by relu and read only by fc2, both inside: off the device after fc2 (step 2), back at 5.
  assert.deepEqual([...splits], [['r', { forwardEnd: 2, backStart: 5, how: 'recomputed' }]]);
});

test('an offloaded tensor comes back one step before its first backward reader (fc2 at 5: prefetched at 4)', () => {
  const { regions, splits } = passes('offload');
  assert.equal(regions.start.size, 0);
  assert.deepEqual([...splits], [['r', { forwardEnd: 2, backStart: 4, how: 'fetched' }]]);
});

test('without regions nothing is split; weights and inputs never are', () => {
  assert.equal(passes('none').splits.size, 0);
  assert.ok(!passes('checkpoint').splits.has('x') && !passes('checkpoint').splits.has('W2'));
});
