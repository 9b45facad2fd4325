// The allocation sequence an allocator model reads, and the exact allocator over it: its
// requested bytes are the transient bytes live at each step, counted from the events alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocationSequence, exactAllocator } from '../../../extension/engine/memory/allocations';
import { buildBuffers } from '../../../extension/engine/memory/buffers';
import { liveBytes } from '../../../extension/engine/memory/live';
import { planOffsets } from '../../../extension/engine/memory/offset-plan';
import { mlpWithLoss, tabled } from './graphs';

const t = tabled(mlpWithLoss(), { mode: 'train' });
const model = buildBuffers(t.table, t.shapes, t.settings, { frozen: new Set() });

test('requests per step largest first, frees at each buffer\'s last step, persistent buffers left out', () => {
  const seq = allocationSequence(model.buffers, model.steps.length);
  assert.equal(seq.length, 9);
  const born = seq.flatMap((s) => s.allocate);
  assert.ok(born.every((i) => !model.buffers[i].persistent));
  assert.deepEqual(born.sort((a, b) => a - b), model.buffers.flatMap((b, i) => (!b.persistent && b.bytes > 0 ? [i] : [])));
  for (const s of seq) {
    const sizes = s.allocate.map((i) => model.buffers[i].bytes);
    assert.deepEqual(sizes, [...sizes].sort((a, b) => b - a));
    for (const i of s.free) assert.equal(model.buffers[i].end, s.step);
  }
});

test('the exact allocator holds the live transient bytes of each step; its peak is the ideal plan\'s', () => {
  const figures = exactAllocator(allocationSequence(model.buffers, model.steps.length), model.buffers);
  const live = liveBytes(model.buffers, model.steps.length);
  const persistent = model.buffers.filter((b) => b.persistent).reduce((s, b) => s + b.bytes, 0);
  assert.deepEqual([...figures.requested], [...live.total].map((x) => x - persistent));
  assert.deepEqual([...figures.held], [...figures.requested]);
  assert.equal(Math.max(...figures.requested), planOffsets(model.buffers, model.steps.length).idealBytes);
});
