// Offset planning for transient buffers, greedy by size (Pisarchyk & Lee, "Efficient Memory
// Management for Deep Neural Net Inference", 2020): place the largest buffers first, each at the
// lowest offset that does not overlap a placed buffer live at the same time.
import type { Buffer } from './buffer-types';
import { MemlensError } from '../errors';

/**
 * Bound on the placement work: in the worst case (every buffer live at once, as the outputs of a
 * Split with 10^5 outputs) greedy-by-size checks every placed buffer for each new one, n(n-1)/2 in
 * all, and the engine runs where a freeze would stall the editor. 1.25*10^9 checks (50,000 transient
 * buffers) take a few seconds.
 */
export const MAX_PLACEMENT_CHECKS = 1.25e9;

export interface OffsetPlan {
  /** Arena size the plan needs. */
  arenaBytes: number;
  /** Max over steps of the live transient bytes: what perfect reuse would need. */
  idealBytes: number;
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
  if ((items.length * (items.length - 1)) / 2 > MAX_PLACEMENT_CHECKS) {
    throw new MemlensError(`${where}: ${items.length} transient buffers, too many to plan their offsets within bounds (${MAX_PLACEMENT_CHECKS} placement checks); refused`);
  }
  const placed = new Placed(items.length, stepCount);
  let arenaBytes = 0;
  for (const b of items) {
    const offset = placed.firstFit(b);
    placed.insert(b, offset);
    arenaBytes = Math.max(arenaBytes, offset + b.bytes);
  }
  return { arenaBytes, idealBytes };
}

interface Interval {
  bytes: number;
  start: number;
  end: number;
}

/** Steps per time block of `Placed`: a few layers of a large graph. */
const BLOCK_STEPS = 256;

/**
 * The placed buffers in offset order, once for the whole graph and once per block of steps
 * (each buffer in every block it is live in). First fit walks the buffers in offset order,
 * skipping those not live at the same time; a buffer within one block needs to walk only that
 * block's list, which holds every buffer it can overlap. The plain walk over the whole list made
 * planning take most of the analysis on a 10,000-node graph.
 */
class Placed {
  private readonly offset: Float64Array;
  private readonly size: Float64Array;
  private readonly start: Float64Array;
  private readonly end: Float64Array;
  private readonly all: number[] = [];
  private readonly blocks: number[][];
  private count = 0;

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
      if (this.start[i] > b.end || b.start > this.end[i]) continue;
      if (this.offset[i] - at >= b.bytes) break;
      at = Math.max(at, this.offset[i] + this.size[i]);
    }
    return at;
  }

  insert(b: Interval, offset: number): void {
    const id = this.count++;
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
