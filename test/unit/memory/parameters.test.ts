// The parameter pass: which weights train, and how many elements parameters hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parameterPass } from '../../../extension/engine/memory/parameters';
import { GraphBuilder } from '../../fixtures/graph-builder';
import { mlpWithLoss, tabled } from './graphs';

/** x -> BatchNormalization(scale[3], bias[3], mean[3], var[3]); U[5] is read by no node. */
function batchNorm() {
  const b = new GraphBuilder();
  b.input('x', 'float32', [2, 3, 4, 4]);
  b.op('BatchNormalization', ['x', b.weight('scale', [3]), b.weight('bias', [3]), b.weight('mean', [3]), b.weight('var', [3])], { name: 'bn', outputs: ['y'] });
  b.weight('U', [5]);
  b.output('y', 'float32', [2, 3, 4, 4]);
  return b.model(15);
}

test('every float weight read by a node trains; counts are elements', () => {
  const p = parameterPass(tabled(mlpWithLoss(), { mode: 'train' }).table, { frozen: new Set() });
  assert.deepEqual([...p.trainable].sort(), ['W1', 'W2']);
  assert.equal(p.count, 32 + 24);
  assert.equal(p.trainableCount, 32 + 24);
});

test('BatchNorm running statistics, frozen weights and unread weights do not train, but count as parameters', () => {
  const p = parameterPass(tabled(batchNorm(), { mode: 'train' }).table, { frozen: new Set(['bias']) });
  assert.deepEqual([...p.trainable], ['scale']);
  assert.equal(p.count, 3 + 3 + 3 + 3 + 5);
  assert.equal(p.trainableCount, 3);
});

test('a parameter list from the producer decides what counts as a parameter', () => {
  const p = parameterPass(tabled(batchNorm(), { mode: 'train' }).table, { frozen: new Set(), parameters: new Set(['scale', 'bias']) });
  assert.deepEqual([...p.trainable].sort(), ['bias', 'scale']);
  assert.equal(p.count, 6);
});
