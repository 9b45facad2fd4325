// The simulated allocator's state as segments of blocks, laid out like a memory snapshot's
// `segments` (DeviceCachingAllocator::snapshot: one segment per cudaMalloc, or per contiguous
// mapped range of an expandable segment), and the fragmentation figures read from it.
import type { Block } from './blocks';
import type { AllocatorCore } from './core';

export interface SimBlock {
  readonly address: number;
  readonly size: number;
  readonly requested: number;
  readonly allocated: boolean;
}

export interface SimSegment {
  readonly address: number;
  readonly totalSize: number;
  readonly pool: 'small' | 'large';
  readonly stream: number;
  readonly expandable: boolean;
  readonly blocks: readonly SimBlock[];
}

export function segmentsOf(core: AllocatorCore): SimSegment[] {
  const all: Block[] = [...core.small.blocks.values(), ...core.large.blocks.values(), ...core.active];
  const heads = all.filter((b) => b.mapped && !(b.prev && b.prev.mapped));
  const segments = heads.map((head): SimSegment => {
    const blocks: SimBlock[] = [];
    for (let b: Block | null = head; b && b.mapped; b = b.next) {
      blocks.push({ address: b.ptr, size: b.size, requested: b.allocated ? b.requested : 0, allocated: b.allocated });
    }
    return {
      address: head.ptr,
      totalSize: blocks.reduce((a, b) => a + b.size, 0),
      pool: head.pool.isSmall ? 'small' : 'large',
      stream: head.stream,
      expandable: head.expandable !== null,
      blocks,
    };
  });
  return segments.sort((a, b) => a.address - b.address);
}

export interface Fragmentation {
  readonly reservedBytes: number;
  readonly allocatedBytes: number;
  readonly requestedBytes: number;
  /** reserved - allocated: memory the cache holds that no tensor uses. */
  readonly cachedFreeBytes: number;
  /** allocated - requested: 512 B rounding, power-of-two divisions and unsplit remainders inside blocks in use. */
  readonly roundingBytes: number;
  /** Free blocks in segments that also hold blocks in use (inactive_split_bytes, expandable segments excluded as PyTorch does): empty_cache cannot return them. */
  readonly inactiveSplitBytes: number;
  readonly largestFreeBlock: number;
}

export function fragmentationOf(core: AllocatorCore): Fragmentation {
  const s = core.stats;
  let inactiveSplitBytes = 0, largestFreeBlock = 0;
  for (const b of [...core.small.blocks.values(), ...core.large.blocks.values()]) {
    largestFreeBlock = Math.max(largestFreeBlock, b.size);
    if (!b.expandable && (b.prev || b.next)) inactiveSplitBytes += b.size;
  }
  return {
    reservedBytes: s.reserved,
    allocatedBytes: s.allocated,
    requestedBytes: s.requested,
    cachedFreeBytes: s.reserved - s.allocated,
    roundingBytes: s.allocated - s.requested,
    inactiveSplitBytes,
    largestFreeBlock,
  };
}
