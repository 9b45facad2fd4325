// Getting and returning device memory with cudaMalloc / cudaFree (CUDACachingAllocator.cpp:
// alloc_block, release_block, release_available_cached_blocks, release_cached_blocks,
// release_blocks). Expandable segments take the paths in expandable.ts instead.
import { isSplit, type Block, type BlockPool } from './blocks';
import type { AllocatorCore, AllocParams } from './core';
import { releaseExpandableSegment, tryAllocateExpandableBlock, unmapBlock } from './expandable';

/** cudaMalloc of p.allocSize (or, with expandable segments, mapping pages); null when the device is full. */
export function allocBlock(core: AllocatorCore, p: AllocParams, isRetry: boolean): Block | null {
  if (isRetry) core.stats.numAllocRetries++;
  if (core.config.expandableSegments) return tryAllocateExpandableBlock(core, p.stream, p.pool, p.size);
  if (!core.deviceHasRoom(p.allocSize)) return null;
  const block = core.newBlock({ stream: p.stream, size: p.allocSize, ptr: core.reserveAddress(p.allocSize), pool: p.pool, mapped: true, expandable: null });
  core.stats.addReserved(p.pool.isSmall, p.allocSize, 1);
  core.stats.numDeviceAlloc++;
  return block;
}

/** cudaFree of a whole, free, non-expandable segment. */
export function releaseBlock(core: AllocatorCore, b: Block): void {
  b.pool.blocks.erase(b);
  core.stats.addReserved(b.pool.isSmall, -b.size, -1);
  core.stats.numDeviceFree++;
}

/**
 * Frees cached oversize blocks (>= max_split_size) on the request's stream, only enough for the
 * request: the smallest that is large enough, else the largest ones until their sum is.
 */
export function releaseAvailableCachedBlocks(core: AllocatorCore, p: AllocParams): boolean {
  const maxSplit = core.config.maxSplitSize;
  if (maxSplit === Infinity) return false;
  const target = Math.max(p.size, maxSplit);
  const free = p.pool.blocks;
  // Blocks at or above max_split_size are never split, so the checks for a split block only guard.
  const releasable = (b: Block): boolean => !b.expandable && !isSplit(b);
  let i = free.lowerBound({ stream: p.stream, size: target, ptr: 0 });
  const found = free.at(i);
  if (found && found.stream === p.stream && !found.expandable) {
    if (releasable(found)) releaseBlock(core, found);
    return true;
  }
  let released = 0;
  for (i--; i >= 0 && released < target; i--) {
    const b = free.at(i);
    if (!b || b.stream !== p.stream || b.size < maxSplit) break;
    if (releasable(b)) {
      released += b.size;
      releaseBlock(core, b);
    }
  }
  return released >= target;
}

/** empty_cache(), and the last resort before an out-of-memory error: frees every unsplit free segment and unmaps free pages. */
export function releaseCachedBlocks(core: AllocatorCore): void {
  releaseBlocks(core, core.large);
  releaseBlocks(core, core.small);
}

function releaseBlocks(core: AllocatorCore, pool: BlockPool): void {
  const toUnmap: Block[] = [];
  for (const b of [...pool.blocks.values()]) {
    if (b.expandable) toUnmap.push(b);
    else if (!isSplit(b)) releaseBlock(core, b);
  }
  for (const b of toUnmap) {
    unmapBlock(core, b);
    if (!b.mapped && !isSplit(b)) releaseExpandableSegment(core, b);
  }
}
