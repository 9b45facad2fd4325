// Offset planning for transient buffers, greedy by size (Pisarchyk & Lee, "Efficient Memory
// Management for Deep Neural Net Inference", 2020): place the largest buffers first, each at the
// lowest offset that does not overlap a placed buffer live at the same time.
import type { Buffer } from './buffer-types';

export interface OffsetPlan {
  /** Arena size the plan needs. */
  arenaBytes: number;
  /** Max over steps of the live transient bytes: what perfect reuse would need. */
  idealBytes: number;
}

export function planOffsets(buffers: Buffer[], stepCount: number): OffsetPlan {
  // Plain intervals of one shape: the placement loop below is quadratic in the worst case, and
  // buffers of different kinds are objects of different shapes.
  const items = buffers
    .filter((b) => !b.persistent && b.bytes > 0)
    .map((b) => ({ bytes: b.bytes, start: b.start, end: b.end }))
    .sort((a, b) => b.bytes - a.bytes || a.start - b.start);
  const diff = new Float64Array(stepCount + 1);
  for (const b of items) {
    diff[b.start] += b.bytes;
    diff[b.end + 1] -= b.bytes;
  }
  let idealBytes = 0, run = 0;
  for (let s = 0; s < stepCount; s++) {
    run += diff[s];
    idealBytes = Math.max(idealBytes, run);
  }
  // Placed buffers sorted by offset; for each new one, scan only those overlapping in time.
  const placed: { offset: number; size: number; start: number; end: number }[] = [];
  let arenaBytes = 0;
  for (const b of items) {
    const overlapping = placed.filter((p) => p.start <= b.end && b.start <= p.end);
    let offset = 0;
    for (const p of overlapping) {
      if (p.offset - offset >= b.bytes) break;
      offset = Math.max(offset, p.offset + p.size);
    }
    const entry = { offset, size: b.bytes, start: b.start, end: b.end };
    let lo = 0, hi = placed.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (placed[mid].offset < offset) lo = mid + 1;
      else hi = mid;
    }
    placed.splice(lo, 0, entry);
    arenaBytes = Math.max(arenaBytes, offset + b.bytes);
  }
  return { arenaBytes, idealBytes };
}
