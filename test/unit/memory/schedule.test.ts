// The schedule pass: one step per node in inference; in training the backward steps of nodes
// that have an input needing a gradient, in reverse, then the optimizer step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstBackwardStep, inferenceSchedule, trainingSchedule } from '../../../extension/engine/memory/schedule';
import { GraphBuilder } from '../../fixtures/graph-builder';
import { mlpWithLoss, tabled } from './graphs';

test('inference: the forward steps only', () => {
  const s = inferenceSchedule(tabled(mlpWithLoss()).table);
  assert.deepEqual(s.steps, [0, 1, 2, 3].map((node) => ({ phase: 'forward', node })));
  assert.equal(s.last, 3);
  assert.equal(s.backwardStep.size, 0);
});

test('training: forward, backward of sum, fc2, relu, fc1, then the optimizer step', () => {
  const s = trainingSchedule(tabled(mlpWithLoss(), { mode: 'train' }).table, new Set(['W1', 'W2']));
  assert.deepEqual(s.steps.slice(4), [
    { phase: 'backward', node: 3 }, { phase: 'backward', node: 2 }, { phase: 'backward', node: 1 }, { phase: 'backward', node: 0 },
    { phase: 'optimizer' },
  ]);
  assert.deepEqual([...s.backwardStep], [[3, 4], [2, 5], [1, 6], [0, 7]]);
  assert.deepEqual([...s.requiresGrad].sort(), ['W1', 'W2', 'h', 'loss', 'r', 'y']);
  assert.equal(s.last, 8);
  assert.equal(firstBackwardStep(s), 4);
});

test('with W1 frozen, fc1 has no backward step: only x and W1 feed it, and neither needs a gradient', () => {
  const s = trainingSchedule(tabled(mlpWithLoss(), { mode: 'train' }).table, new Set(['W2']));
  assert.deepEqual([...s.backwardStep.keys()], [3, 2]);
  assert.deepEqual([...s.requiresGrad].sort(), ['W2', 'loss', 'y']);
});

test('an integer output computed from a trained tensor needs no gradient', () => {
  const b = new GraphBuilder();
  b.input('x', 'float32', [2, 4]);
  b.op('MatMul', ['x', b.weight('W', [4, 4])], { name: 'mm', outputs: ['h'] });
  b.op('ArgMax', ['h'], { name: 'argmax', outputs: ['idx'] });
  b.output('idx', 'int64', null);
  const s = trainingSchedule(tabled(b.model(13), { mode: 'train' }).table, new Set(['W']));
  assert.ok(s.requiresGrad.has('h'));
  assert.ok(!s.requiresGrad.has('idx'));
});
