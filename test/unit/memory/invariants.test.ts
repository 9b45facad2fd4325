// The memory model's invariants: each check passes on a real buffer model and fails, naming the
// rule, on a record that breaks it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aliasGroups } from '../../../extension/engine/memory/activations';
import type { Buffer, Step } from '../../../extension/engine/memory/buffer-types';
import { buildBuffers } from '../../../extension/engine/memory/buffers';
import { checkBuffers, checkLiveTotals, checkSavedLive } from '../../../extension/engine/memory/invariants';
import { categoriesAt, liveBytes } from '../../../extension/engine/memory/live';
import { inferenceSchedule } from '../../../extension/engine/memory/schedule';
import { CATEGORIES, type Category } from '../../../extension/engine/profile';
import { mlpWithLoss, tabled } from './graphs';

const t = tabled(mlpWithLoss(), { mode: 'train' });
const model = buildBuffers(t.table, t.shapes, t.settings, { frozen: new Set() });
const ctx = { nodes: t.table.nodes, settings: t.settings };
const steps: Step[] = model.steps;
const tensor = (name: string, start: number, end: number, bytes = 8, persistent = false): Buffer => ({
  bytes, category: 'activations', start, end, owner: { kind: 'none' }, persistent, kind: 'tensor', tensor: name,
});

test('a real training model passes every check', () => {
  assert.doesNotThrow(() => checkBuffers(steps, model.buffers, ctx));
  assert.doesNotThrow(() => liveBytes(model.buffers, steps.length));
});

test('buffer records: whole bytes, an interval inside the sequence, persistent over all of it, one per tensor', () => {
  assert.throws(() => checkBuffers(steps, [tensor('a', 0, 1, 2.5)], ctx), /bytes are a whole number >= 0 \(buffer 'a'/);
  assert.throws(() => checkBuffers(steps, [tensor('a', 3, 2)], ctx), /0 <= start <= end <= last step/);
  assert.throws(() => checkBuffers(steps, [tensor('a', 0, steps.length)], ctx), /0 <= start <= end <= last step/);
  assert.throws(() => checkBuffers(steps, [tensor('a', 0, 3, 8, true)], ctx), /a persistent buffer is live at every step/);
  assert.throws(() => checkBuffers(steps, [tensor('a', 0, 1), tensor('a', 2, 3)], ctx), /one buffer per tensor/);
});

test('live bytes equal the sum over categories and the sum over buffers', () => {
  const buffers = [tensor('a', 0, 1, 8), tensor('b', 1, 2, 16)];
  const total = Float64Array.from([8, 24, 16]);
  const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, new Float64Array(3)])) as Record<Category, Float64Array>;
  byCategory.activations.set([8, 24, 16]);
  assert.doesNotThrow(() => checkLiveTotals(total, byCategory, buffers));
  byCategory.weights[2] = 1;
  assert.throws(() => checkLiveTotals(total, byCategory, buffers), /at step 2: live 16 B, sum over categories 17 B, sum over buffers 16 B/);
  byCategory.weights[2] = 0;
  assert.throws(() => checkLiveTotals(Float64Array.from([8, 24, 15]), byCategory, buffers), /at step 2/);
});

test('a saved tensor must be live at its backward step', () => {
  const { aliases } = aliasGroups(t.table, { schedule: inferenceSchedule(t.table), savedUntil: new Map(), splits: new Map(), settings: { ...t.settings, mode: 'train' }, options: { frozen: new Set() } });
  assert.doesNotThrow(() => checkSavedLive(new Map([['r', 6]]), new Map(), model.buffers, aliases, ctx));
  const early = model.buffers.map((b) => (b.kind === 'tensor' && b.tensor === 'r' ? { ...b, end: 5 } : b));
  assert.throws(() => checkSavedLive(new Map([['r', 6]]), new Map(), early, aliases, ctx), /saved tensor 'r' is live until its backward step 6/);
});

test('categoriesAt gives each category its live bytes at the step, keys in CATEGORIES order (the profile JSON order)', () => {
  const buffers = [tensor('a', 0, 1, 8), { ...tensor('w', 0, 2, 32), category: 'weights' as const }, { ...tensor('o', 2, 2, 4), category: 'outputs' as const }];
  const live = liveBytes(buffers, 3);
  const at = [0, 1, 2].map((s) => categoriesAt(live, s));
  for (const c of at) assert.deepEqual(Object.keys(c), [...CATEGORIES]);
  assert.deepEqual([at[0].activations, at[0].weights, at[0].outputs], [8, 32, 0]);
  assert.deepEqual([at[2].activations, at[2].weights, at[2].outputs], [0, 32, 4]);
  at.forEach((c, s) => assert.equal(CATEGORIES.reduce((sum, k) => sum + c[k], 0), live.total[s]));
});
