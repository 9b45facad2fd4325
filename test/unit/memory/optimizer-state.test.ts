// The optimizer pass: state per trainable parameter for the whole step, and the update's
// temporary (one fp32 tensor the size of the largest parameter) at the optimizer step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STEADY_STATE, type Buffer } from '../../../extension/engine/memory/buffer-types';
import { optimizerPass } from '../../../extension/engine/memory/optimizer-state';
import type { OptimizerKind, Precision } from '../../../extension/engine/settings';
import { mlpWithLoss, tabled } from './graphs';

function pass(optimizer: OptimizerKind, dtype: Precision = 'fp32'): Buffer[] {
  const t = tabled(mlpWithLoss(), { mode: 'train', optimizer, dtype });
  return optimizerPass(t.table, new Set(['W1', 'W2']), t.settings, STEADY_STATE, 8);
}

const row = (b: Buffer) => [b.kind === 'optimizer' ? b.parameter : b.kind, b.category, b.start, b.end, b.bytes, b.persistent];

test('AdamW: m and v in fp32 (8 B per element), and a 32-element fp32 temporary at the update', () => {
  assert.deepEqual(pass('adamw').map(row), [
    ['W1', 'optimizerState', 0, 8, 32 * 8, true],
    ['W2', 'optimizerState', 0, 8, 24 * 8, true],
    ['workspace', 'other', 8, 8, 32 * 4, false],
  ]);
});

test('mixed precision adds 4 B of fp32 master weights per element; SGD keeps no state and no temporary', () => {
  assert.deepEqual(pass('adamw', 'bf16').map((b) => b.bytes), [32 * 12, 24 * 12, 32 * 4]);
  assert.deepEqual(pass('sgd'), []);
  assert.deepEqual(pass('sgd-momentum').map((b) => b.bytes), [32 * 4, 24 * 4, 32 * 4]);
});
