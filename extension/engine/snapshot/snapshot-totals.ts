// What a snapshot's segments add up to, by the definitions in torch/cuda/memory.py's `_snapshot`
// docstring: reserved memory is the sum of the segments' sizes; allocated memory is the sum of the
// sizes of blocks in use (`active_allocated`), the rounded sizes memory_allocated() counts.
import type { Snapshot, SnapshotSegment } from './snapshot-types';

export interface PoolTotals {
  readonly segments: number;
  readonly reservedBytes: number;
  readonly allocatedBytes: number;
  /** Bytes the callers of the allocated blocks asked for, before rounding. */
  readonly requestedBytes: number;
}

export interface SnapshotTotals extends PoolTotals {
  readonly small: PoolTotals;
  readonly large: PoolTotals;
}

function poolTotals(segments: readonly SnapshotSegment[]): PoolTotals {
  let reservedBytes = 0, allocatedBytes = 0, requestedBytes = 0;
  for (const s of segments) {
    reservedBytes += s.totalSize;
    for (const b of s.blocks) {
      if (b.state !== 'active_allocated') continue;
      allocatedBytes += b.size;
      requestedBytes += b.requestedSize;
    }
  }
  return { segments: segments.length, reservedBytes, allocatedBytes, requestedBytes };
}

/** Totals over the segments of one device (all devices when `device` is left out). */
export function snapshotTotals(snapshot: Snapshot, device?: number): SnapshotTotals {
  const segs = snapshot.segments.filter((s) => device === undefined || s.device === device);
  return {
    ...poolTotals(segs),
    small: poolTotals(segs.filter((s) => s.pool === 'small')),
    large: poolTotals(segs.filter((s) => s.pool === 'large')),
  };
}

/** Segment sizes in one list and not the other, counted with multiplicity. */
export function segmentSizeDifference(expected: readonly number[], actual: readonly number[]): { missing: number[]; extra: number[] } {
  const counts = new Map<number, number>();
  for (const s of expected) counts.set(s, (counts.get(s) ?? 0) + 1);
  const extra: number[] = [];
  for (const s of actual) {
    const n = counts.get(s) ?? 0;
    if (n > 0) counts.set(s, n - 1);
    else extra.push(s);
  }
  const missing = [...counts].flatMap(([s, n]) => Array<number>(n).fill(s));
  return { missing: missing.sort((a, b) => a - b), extra: extra.sort((a, b) => a - b) };
}
