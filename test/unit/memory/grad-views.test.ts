// Parameter gradients kept as views of a Concat's gradient (engine/memory/grad-views.ts): which
// parameters, and how the gradient pass hands the Concat's gradient over to them. The bytes are
// held against torch 1.13 in test/integration/language-python/grad-views-torch.test.ts; here the
// strides are the ones torch 1.13 reports for those `.grad` tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aliasGroups } from '../../../extension/engine/memory/activations';
import { STEADY_STATE, type Buffer, type TrainingStep } from '../../../extension/engine/memory/buffer-types';
import { obeysLayoutContract, stolenGradients } from '../../../extension/engine/memory/grad-views';
import { gradientPass } from '../../../extension/engine/memory/gradients';
import { trainingSchedule } from '../../../extension/engine/memory/schedule';
import { torchViews } from '../../../extension/engine/memory/torch-views';
import { GraphBuilder, int } from '../../fixtures/graph-builder';
import { tabled } from './graphs';

/**
 * A class token T[1,1,8] expanded to the batch n and cat'd before x[n,4,8]: expand 0, concat 1
 * (c[n,5,8], 160·n B), matmul 2 with W[8,3], sum 3; backward steps sum 4, matmul 5, concat 6,
 * expand 7, update 8.
 */
function classToken(n: number) {
  const b = new GraphBuilder();
  b.input('x', 'float32', [n, 4, 8]);
  b.op('Expand', [b.weight('T', [1, 1, 8]), b.ints([n, 1, 8])], { name: 'expand', outputs: ['e'] });
  b.op('Concat', ['e', 'x'], { name: 'concat', outputs: ['c'], attrs: { axis: int(1) } });
  b.op('MatMul', ['c', b.weight('W', [8, 3])], { name: 'matmul', outputs: ['y'] });
  b.op('ReduceSum', ['y'], { name: 'sum', outputs: ['loss'], attrs: { keepdims: int(0) } });
  b.output('loss', 'float32', []);
  const t = tabled(b.model(13), { mode: 'train' });
  const trainable = new Set(['T', 'W']);
  const views = torchViews(t.table, t.shapes);
  const stolen = stolenGradients(t.table, t.shapes, views, trainable);
  const gradients = (step: TrainingStep = STEADY_STATE): Buffer[] => {
    const schedule = trainingSchedule(t.table, trainable);
    const { aliases } = aliasGroups(t.table, { schedule, savedUntil: new Map(), splits: new Map(), settings: t.settings, options: { frozen: new Set() }, torchViews: views });
    return gradientPass(t.table, { schedule, trainable, aliases, settings: t.settings, step, stolen });
  };
  return { stolen, gradients };
}

const row = (b: Buffer) => (b.kind === 'gradient' ? [b.tensor, b.start, b.end, b.bytes, b.persistent] : [b.kind, b.start, b.end, b.bytes, b.persistent]);

test('batch 1: the class token\'s .grad keeps the cat\'s whole gradient from the cat\'s backward, which hands it over', () => {
  const { stolen, gradients } = classToken(1);
  assert.deepEqual(stolen, [{ parameter: 'T', base: 'c', concat: 1 }]);
  assert.deepEqual(gradients().map(row).sort(), [
    ['T', 6, 8, 160, false],
    ['W', 5, 8, 96, false],
    // c's gradient is born at the matmul's backward and is T's storage from the cat's backward on.
    ['c', 5, 5, 160, false],
    ['loss', 4, 4, 4, false],
    ['y', 4, 5, 60, false],
  ]);
  const t = gradients().find((b) => b.kind === 'gradient' && b.tensor === 'T');
  assert.equal(t?.kind === 'gradient' ? t.viewOf : undefined, 'c');
});

test('batch 2: ExpandBackward0 sums into a fresh tensor, so nothing is kept beyond the parameter', () => {
  const { stolen, gradients } = classToken(2);
  assert.deepEqual(stolen, []);
  const byTensor = new Map(gradients().map((b) => [b.kind === 'gradient' ? b.tensor : '', [b.start, b.end, b.bytes]]));
  assert.deepEqual(byTensor.get('T'), [6, 8, 32]);
  assert.deepEqual(byTensor.get('c'), [5, 6, 320]);
});

test('after zero_grad(set_to_none=False) the kept view is there from the start; the new gradient, a view, is added into it', () => {
  const { gradients } = classToken(1);
  const all = gradients({ ...STEADY_STATE, gradients: 'zero' });
  const rows = all.map(row).sort();
  assert.deepEqual(rows.filter((r) => r[0] === 'T' || r[0] === 'c'), [['T', 0, 8, 160, true], ['c', 5, 6, 160, false]]);
  // Only W's new gradient is a buffer of its own at its backward step.
  assert.deepEqual(rows.filter((r) => r[0] === 'workspace'), [['workspace', 5, 5, 96, false]]);
});

test('the layout contract on the strides torch 1.13 gives these .grad views', () => {
  // cat([class_token (1,1,768) expanded at batch 1, x], 1): narrow of (1,197,768).
  assert.equal(obeysLayoutContract([1, 1, 768], [151296, 768, 1]), true);
  // cat([P (3,8), x (3,4)], 1): the narrow's row stride is 12, not 8: a copy.
  assert.equal(obeysLayoutContract([3, 8], [12, 1]), false);
  // cat([E.t(), x], 0) with E (8,1): the view (8,1) has strides (1,8); only the size-8 dim counts.
  assert.equal(obeysLayoutContract([8, 1], [1, 8]), true);
  // A size-1 dim of stride 0 (an expand) is never taken as the parameter's gradient.
  assert.equal(obeysLayoutContract([1, 8], [0, 1]), false);
});
