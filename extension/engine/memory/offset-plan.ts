// Offset planning for transient buffers, greedy by size (Pisarchyk & Lee, "Efficient Memory
// Management for Deep Neural Net Inference", 2020): place the largest buffers first, each at the
// lowest offset that does not overlap a placed buffer live at the same time.
import type { Buffer } from './buffer-types';
import { MemlensError } from '../errors';

/**
 * Bound on the placement work, counted as it is done (placed buffers looked at). First fit walks
 * the placed buffers live at the same time in offset order; runs of buffers placed end to end over
 * the same steps (a Split's outputs, all live at once) are one block, so the common shapes cost
 * O(n log n). A graph whose buffers still overlap in many distinct ways is refused when the walk
 * passes this many checks (a few seconds), rather than blocking for minutes.
 */
export const MAX_PLACEMENT_CHECKS = 4e8;

export interface OffsetPlan {
  /** Arena size the plan needs. */
  arenaBytes: number;
  /** Max over steps of the live transient bytes: what perfect reuse would need. */
  idealBytes: number;
  /** Placed blocks first fit looked at: the planning work, bounded by MAX_PLACEMENT_CHECKS. */
  checks: number;
}

/** What planning reads of a buffer. */
export type PlannedBuffer = Pick<Buffer, 'bytes' | 'start' | 'end' | 'persistent'>;

export function planOffsets(buffers: readonly PlannedBuffer[], stepCount: number, where = 'model'): OffsetPlan {
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
  const placed = new Placed(items.length, stepCount);
  let arenaBytes = 0;
  for (const b of items) {
    const offset = placed.firstFit(b);
    if (placed.checks > MAX_PLACEMENT_CHECKS) {
      throw new MemlensError(`${where}: ${items.length} transient buffers overlap in too many ways to plan their offsets within bounds (${MAX_PLACEMENT_CHECKS} placement checks); refused`);
    }
    placed.insert(b, offset);
    arenaBytes = Math.max(arenaBytes, offset + b.bytes);
  }
  return { arenaBytes, idealBytes, checks: placed.checks };
}

/** One key per interval, no string built for the whole step indices an analysis has (< 2^26). */
function intervalKey(start: number, end: number): number | string {
  const exact = Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end >= 0 && start < 2 ** 26 && end < 2 ** 26;
  return exact ? start * 2 ** 26 + end : `${start},${end}`;
}

interface Interval {
  bytes: number;
  start: number;
  end: number;
}

/** Steps per time block of `Placed`: a few layers of a large graph. */
const BLOCK_STEPS = 256;

/**
 * The placed blocks in offset order, once for the whole graph and once per block of steps
 * (each buffer in every block it is live in). First fit walks the buffers in offset order,
 * skipping those not live at the same time; a buffer within one block needs to walk only that
 * block's list, which holds every buffer it can overlap. The plain walk over the whole list made
 * planning take most of the analysis on a 10,000-node graph.
 *
 * A buffer placed right at the end of a block with the same steps extends that block: any buffer
 * live at the same time as one is live with the other, and no gap lies between them, so first fit
 * finds the same offsets (checked against the plain definition in offset-plan.test.ts).
 */
class Placed {
  private readonly offset: Float64Array;
  private readonly size: Float64Array;
  private readonly start: Float64Array;
  private readonly end: Float64Array;
  private readonly all: number[] = [];
  private readonly blocks: number[][];
  private count = 0;
  /** Block ending at an offset, by interval then end offset: where an end-to-end buffer joins it. */
  private readonly ends = new Map<number | string, Map<number, number>>();
  /** Placed blocks looked at by first fit so far. */
  checks = 0;

  constructor(capacity: number, private readonly stepCount: number) {
    this.offset = new Float64Array(capacity);
    this.size = new Float64Array(capacity);
    this.start = new Float64Array(capacity);
    this.end = new Float64Array(capacity);
    this.blocks = Array.from({ length: Math.ceil(Math.max(1, stepCount) / BLOCK_STEPS) }, () => []);
  }

  private block(step: number): number {
    return Math.floor(Math.min(Math.max(step, 0), Math.max(1, this.stepCount) - 1) / BLOCK_STEPS);
  }

  /** The lowest offset where `b` meets no placed buffer live at the same time (first fit). */
  firstFit(b: Interval): number {
    const first = this.block(b.start);
    const list = first === this.block(b.end) && b.start >= 0 && b.end < this.stepCount ? this.blocks[first] : this.all;
    let at = 0;
    for (const i of list) {
      this.checks++;
      if (this.start[i] > b.end || b.start > this.end[i]) continue;
      if (this.offset[i] - at >= b.bytes) break;
      at = Math.max(at, this.offset[i] + this.size[i]);
    }
    return at;
  }

  insert(b: Interval, offset: number): void {
    const key = intervalKey(b.start, b.end);
    let ends = this.ends.get(key);
    if (!ends) this.ends.set(key, (ends = new Map<number, number>()));
    const joins = ends.get(offset);
    if (joins !== undefined) {
      ends.delete(offset);
      this.size[joins] += b.bytes;
      ends.set(offset + b.bytes, joins);
      return;
    }
    const id = this.count++;
    ends.set(offset + b.bytes, id);
    this.offset[id] = offset;
    this.size[id] = b.bytes;
    this.start[id] = b.start;
    this.end[id] = b.end;
    this.insertSorted(this.all, id);
    for (let k = this.block(b.start); k <= this.block(b.end); k++) this.insertSorted(this.blocks[k], id);
  }

  /** Before any buffer at the same offset: their order does not change a fit. */
  private insertSorted(list: number[], id: number): void {
    const offset = this.offset[id];
    let lo = 0, hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.offset[list[mid]] < offset) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, id);
  }
}
