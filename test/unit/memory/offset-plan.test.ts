// The offset plan is Pisarchyk & Lee's greedy by size: largest first, each at the lowest offset
// that overlaps no placed buffer live at the same time. Checked by hand on a small case and
// against that definition written out plainly (every placed buffer, every candidate offset) on
// random graphs long enough that buffers cross the planner's time blocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planOffsets, type PlannedBuffer } from '../../../extension/engine/memory/offset-plan';

/** The definition: candidate offsets are 0 and the ends of placed overlapping buffers; take the lowest that fits. */
function greedyBySize(buffers: readonly PlannedBuffer[]): number {
  const items = buffers.filter((b) => !b.persistent && b.bytes > 0).sort((a, b) => b.bytes - a.bytes || a.start - b.start);
  const placed: { offset: number; b: PlannedBuffer }[] = [];
  let arena = 0;
  for (const b of items) {
    const live = placed.filter((p) => p.b.start <= b.end && b.start <= p.b.end);
    const candidates = [0, ...live.map((p) => p.offset + p.b.bytes)].sort((x, y) => x - y);
    const offset = candidates.find((o) => live.every((p) => o + b.bytes <= p.offset || o >= p.offset + p.b.bytes))!;
    placed.push({ offset, b });
    arena = Math.max(arena, offset + b.bytes);
  }
  return arena;
}

const buf = (bytes: number, start: number, end: number, persistent = false): PlannedBuffer => ({ bytes, start, end, persistent });

test('worked example: a short buffer fits the gap under a long one; persistent and empty buffers take no space', () => {
  // 100 B over steps 0-1, 60 B over 2-3 and 50 B over 1-2: 100 at 0, 60 at 0 (disjoint in time),
  // 50 overlaps both so goes at 100; ideal is 150 at step 1 and 110 at step 2. First fit looks at
  // the 100 for the 60, then at the 100 and the 60 for the 50: 3 checks.
  const plan = planOffsets([buf(100, 0, 1), buf(60, 2, 3), buf(50, 1, 2), buf(1000, 0, 3, true), buf(0, 0, 3)], 4);
  assert.deepEqual(plan, { arenaBytes: 150, idealBytes: 150, checks: 3 });
});

test('equals greedy by size written plainly, on random buffers over up to 3,000 steps', () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let t = 0; t < 300; t++) {
    const steps = 1 + Math.floor(rnd() * (t % 2 ? 40 : 3000));
    const buffers = Array.from({ length: Math.floor(rnd() * 200) }, () => {
      const start = Math.floor(rnd() * steps);
      const end = Math.min(steps - 1, start + Math.floor(rnd() * rnd() * steps));
      return buf([64, 256, 1000, 4096][Math.floor(rnd() * 4)] * (1 + Math.floor(rnd() * 3)), start, end, rnd() < 0.1);
    });
    assert.equal(planOffsets(buffers, steps).arenaBytes, greedyBySize(buffers), `case ${t}: ${steps} steps, ${buffers.length} buffers`);
  }
});

test('equals greedy by size written plainly when many buffers share their steps (joined blocks)', () => {
  let seed = 11;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let t = 0; t < 200; t++) {
    const steps = 2 + Math.floor(rnd() * 20);
    // A few intervals only, and a few sizes: end-to-end runs over the same steps are common.
    const spans = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => {
      const start = Math.floor(rnd() * steps);
      return { start, end: Math.min(steps - 1, start + Math.floor(rnd() * steps)) };
    });
    const buffers = Array.from({ length: Math.floor(rnd() * 150) }, () => {
      const s = spans[Math.floor(rnd() * spans.length)];
      return buf([16, 48, 64][Math.floor(rnd() * 3)], s.start, s.end);
    });
    assert.equal(planOffsets(buffers, steps).arenaBytes, greedyBySize(buffers), `case ${t}: ${steps} steps, ${buffers.length} buffers`);
  }
});
