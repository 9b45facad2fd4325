// The activation pass: produced tensors' buffers, views and in-place outputs folded into their
// input's buffer, lifetimes to the last (forward or backward) use, and restored copies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activationPass, aliasGroups, type ActivationInputs } from '../../../extension/engine/memory/activations';
import type { Buffer } from '../../../extension/engine/memory/buffer-types';
import { inferenceSchedule, trainingSchedule } from '../../../extension/engine/memory/schedule';
import { GraphBuilder } from '../../fixtures/graph-builder';
import { mlpWithLoss, tabled, type Tabled } from './graphs';

const span = (b: Buffer) => [b.kind === 'tensor' ? b.tensor : b.kind, b.category, b.start, b.end, b.bytes];

function inference(t: Tabled, options: ActivationInputs['options'] = { frozen: new Set() }): ActivationInputs {
  return { schedule: inferenceSchedule(t.table), savedUntil: new Map(), splits: new Map(), settings: t.settings, options };
}

test('inference: ReLU writes into h\'s buffer as h dies there; the group lives until fc2 reads r', () => {
  const t = tabled(mlpWithLoss());
  const { aliases } = aliasGroups(t.table, inference(t));
  assert.equal(aliases.rootOf('r'), 'h');
  assert.deepEqual([...aliases.members], [['r', 'h']]);
  const { buffers } = activationPass(t.table, inference(t));
  assert.deepEqual(buffers.map(span), [['h', 'activations', 0, 2, 64], ['y', 'activations', 2, 3, 24], ['loss', 'outputs', 3, 3, 4]]);
});

test('no in-place reuse when ONNX Runtime does not know both shapes equal statically', () => {
  const t = tabled(mlpWithLoss());
  const { aliases } = aliasGroups(t.table, inference(t, { frozen: new Set(), sameStaticShape: () => false }));
  assert.equal(aliases.members.size, 0);
});

test('a view that is a graph output gives its group the outputs category and the whole step sequence', () => {
  const b = new GraphBuilder();
  b.input('x', 'float32', [2, 4]);
  b.op('MatMul', ['x', b.weight('W', [4, 8])], { name: 'mm', outputs: ['h'] });
  b.op('Reshape', ['h', b.ints([16])], { name: 'flat', outputs: ['v'] });
  b.output('v', 'float32', [16]);
  const t = tabled(b.model(13));
  const { aliases, end } = aliasGroups(t.table, inference(t));
  assert.equal(aliases.rootOf('v'), 'h');
  assert.equal(end.get('h'), 1);
  const { buffers } = activationPass(t.table, inference(t));
  assert.deepEqual(buffers.map(span), [['h', 'outputs', 0, 1, 64]]);
});

test('training: no in-place reuse, saved tensors live until their backward step, split ones come back', () => {
  const t = tabled(mlpWithLoss('checkpoint'), { mode: 'train' });
  const schedule = trainingSchedule(t.table, new Set(['W1', 'W2']));
  const savedUntil = new Map([['r', 6], ['W2', 5], ['x', 7]]);
  const plain = activationPass(t.table, { schedule, savedUntil, splits: new Map(), settings: t.settings, options: { frozen: new Set() } });
  assert.deepEqual(plain.buffers.map(span), [['h', 'activations', 0, 1, 64], ['r', 'activations', 1, 6, 64], ['y', 'activations', 2, 3, 24], ['loss', 'outputs', 3, 8, 4]]);
  const split = activationPass(t.table, {
    schedule, savedUntil, settings: t.settings, options: { frozen: new Set() },
    splits: new Map([['r', { forwardEnd: 2, backStart: 5, how: 'recomputed' as const }]]),
  });
  assert.deepEqual(split.buffers.map(span).slice(1, 3), [['r', 'activations', 1, 2, 64], ['restored', 'activations', 5, 6, 64]]);
  const restored = split.buffers[2];
  assert.ok(restored.kind === 'restored' && restored.of.kind === 'tensor' && restored.of.tensor === 'r' && restored.how === 'recomputed');
});
