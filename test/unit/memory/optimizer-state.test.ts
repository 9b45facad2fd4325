// The optimizer pass: state per trainable parameter for the whole step, and the update's
// temporary (one fp32 tensor the size of the largest parameter) at the optimizer step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STEADY_STATE, type Buffer, type TrainingStep } from '../../../extension/engine/memory/buffer-types';
import { optimizerPass } from '../../../extension/engine/memory/optimizer-state';
import type { OptimizerKind, Precision } from '../../../extension/engine/settings';
import { mlpWithLoss, tabled } from './graphs';

function pass(optimizer: OptimizerKind, dtype: Precision = 'fp32', step: TrainingStep = STEADY_STATE): Buffer[] {
  const t = tabled(mlpWithLoss(), { mode: 'train', optimizer, dtype });
  return optimizerPass(t.table, new Set(['W1', 'W2']), t.settings, step, 8);
}

const row = (b: Buffer) => [b.kind === 'optimizer' ? b.parameter : b.kind, b.category, b.start, b.end, b.bytes, b.persistent];

test('single-tensor AdamW: m and v in fp32 (8 B per element), and sqrt and quotient of the largest parameter at the update', () => {
  assert.deepEqual(pass('adamw').map(row), [
    ['W1', 'optimizerState', 0, 8, 32 * 8, true],
    ['W2', 'optimizerState', 0, 8, 24 * 8, true],
    ['workspace', 'optimizerStep', 8, 8, 2 * 32 * 4, false],
  ]);
});

test('the first step makes the state inside step(); foreach holds copies of every parameter (two in 1.x, one in 2.x); fused none', () => {
  const first = pass('adamw', 'fp32', { ...STEADY_STATE, optimizerState: 'first' });
  assert.deepEqual(first.map((b) => [b.start, b.end, b.persistent]), [[8, 8, false], [8, 8, false], [8, 8, false]]);
  // foreach: one temporary per parameter (W1 32, W2 24 elements), each on its parameter's line.
  const temporaries = (torchMajor: number) => pass('adamw', 'fp32', { ...STEADY_STATE, implementation: 'foreach', torchMajor })
    .filter((b) => b.category === 'optimizerStep').map((b) => b.bytes);
  assert.deepEqual(temporaries(1), [2 * 32 * 4, 2 * 24 * 4]);
  assert.deepEqual(temporaries(2), [32 * 4, 24 * 4]);
  assert.equal(pass('adamw', 'fp32', { ...STEADY_STATE, implementation: 'fused' }).length, 2);
});

test('mixed precision adds 4 B of fp32 master weights per element; SGD keeps no state and no temporary, momentum updates in place', () => {
  assert.deepEqual(pass('adamw', 'bf16').map((b) => b.bytes), [32 * 12, 24 * 12, 2 * 32 * 4]);
  assert.deepEqual(pass('sgd'), []);
  assert.deepEqual(pass('sgd-momentum').map((b) => b.bytes), [32 * 4, 24 * 4]);
});
