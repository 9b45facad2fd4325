// Offset planning for transient buffers, greedy by size (Pisarchyk & Lee, "Efficient Memory
// Management for Deep Neural Net Inference", 2020): place the largest buffers first, each at the
// lowest offset that does not overlap a placed buffer live at the same time.
import type { Buffer } from './buffer-types';
import { MemlensError } from '../errors';

/**
 * Bound on the placement work: greedy-by-size checks every placed buffer for each new one, n(n-1)/2
 * in all (a Split with 10^5 outputs: 5*10^9), and the engine runs where a freeze would stall the
 * editor. 1.25*10^9 checks (50,000 transient buffers) take a few seconds.
 */
export const MAX_PLACEMENT_CHECKS = 1.25e9;

export interface OffsetPlan {
  /** Arena size the plan needs. */
  arenaBytes: number;
  /** Max over steps of the live transient bytes: what perfect reuse would need. */
  idealBytes: number;
}

export function planOffsets(buffers: Buffer[], stepCount: number, where = 'model'): OffsetPlan {
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
  // The work is exactly n(n-1)/2 checks of placed buffers, known before any is placed.
  if ((items.length * (items.length - 1)) / 2 > MAX_PLACEMENT_CHECKS) {
    throw new MemlensError(`${where}: ${items.length} transient buffers, too many to plan their offsets within bounds (${MAX_PLACEMENT_CHECKS} placement checks); refused`);
  }
  // Placed buffers sorted by offset, as parallel typed arrays (no allocation in the inner loop);
  // for each new one, the lowest gap among those overlapping it in time.
  const n = items.length;
  const offs = new Float64Array(n), sizes = new Float64Array(n), starts = new Int32Array(n), ends = new Int32Array(n);
  let count = 0, arenaBytes = 0;
  for (const b of items) {
    let offset = 0;
    for (let j = 0; j < count; j++) {
      if (starts[j] > b.end || b.start > ends[j]) continue;
      if (offs[j] - offset >= b.bytes) break;
      offset = Math.max(offset, offs[j] + sizes[j]);
    }
    let lo = 0, hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (offs[mid] < offset) lo = mid + 1;
      else hi = mid;
    }
    for (const a of [offs, sizes]) a.copyWithin(lo + 1, lo, count);
    for (const a of [starts, ends]) a.copyWithin(lo + 1, lo, count);
    offs[lo] = offset; sizes[lo] = b.bytes; starts[lo] = b.start; ends[lo] = b.end;
    count++;
    arenaBytes = Math.max(arenaBytes, offset + b.bytes);
  }
  return { arenaBytes, idealBytes };
}
