// A simulation of PyTorch's CUDA caching allocator (DeviceCachingAllocator in
// c10/cuda/CUDACachingAllocator.cpp): malloc, free and empty_cache over simulated device memory,
// following the source's rules step by step. Not simulated: CUDA graph private pools,
// record_stream (cross-stream use), set_per_process_memory_fraction and its garbage collection,
// and the driver's own placement (addresses are simulated, see core.ts).
import type { Block } from './blocks';
import type { AllocatorConfig } from './config';
import { AllocatorCore, type AllocParams } from './core';
import { allocBlock, releaseAvailableCachedBlocks, releaseCachedBlocks } from './segments';
import { allocationSize, MIN_BLOCK_SIZE, roundSize, SMALL_SIZE } from './sizes';

export type MallocResult =
  | { readonly kind: 'ok'; readonly block: Block }
  | { readonly kind: 'oom'; readonly requested: number; readonly rounded: number; readonly allocSize: number };

export class CachingAllocator {
  readonly core: AllocatorCore;

  /** @param deviceBytes what cudaMalloc can get in all; Infinity for no limit. */
  constructor(config: AllocatorConfig, deviceBytes = Infinity) {
    this.core = new AllocatorCore(config, deviceBytes);
  }

  get stats() {
    return this.core.stats;
  }

  /** DeviceCachingAllocator::malloc: the cache first, then cudaMalloc, then freeing cached segments and retrying. */
  malloc(requested: number, stream = 0): MallocResult {
    const core = this.core, cfg = core.config;
    const size = roundSize(requested, cfg);
    const p: AllocParams = { stream, size, pool: core.poolOf(size <= SMALL_SIZE), allocSize: allocationSize(size, cfg) };
    const block = this.getFreeBlock(p)
      ?? allocBlock(core, p, false)
      ?? (releaseAvailableCachedBlocks(core, p) ? allocBlock(core, p, false) : null)
      ?? (releaseCachedBlocks(core), allocBlock(core, p, true));
    if (!block) {
      core.stats.numOoms++;
      return { kind: 'oom', requested, rounded: size, allocSize: p.allocSize };
    }
    return { kind: 'ok', block: this.allocFoundBlock(block, p, requested) };
  }

  /** DeviceCachingAllocator::free then free_block: the block merges with free neighbours and returns to its pool. */
  free(b: Block): void {
    if (!b.allocated) throw new Error(`block ${b.id} is not allocated`);
    b.allocated = false;
    this.core.active.delete(b);
    this.core.stats.addAllocated(b.pool.isSmall, -b.size, -b.requested);
    b.requested = 0;
    this.core.tryMerge(b, b.prev);
    this.core.tryMerge(b, b.next);
    b.pool.blocks.insert(b);
  }

  /** torch.cuda.empty_cache(). */
  emptyCache(): void {
    releaseCachedBlocks(this.core);
  }

  /**
   * get_free_block: the smallest free block on the stream that fits (by size, then address),
   * except that a request below max_split_size never takes a block at or above it, and one at or
   * above it only takes a block less than max_non_split_rounding_size larger.
   */
  private getFreeBlock(p: AllocParams): Block | null {
    const free = p.pool.blocks, cfg = this.core.config;
    let i = free.lowerBound({ stream: p.stream, size: p.size, ptr: 0 });
    let b = free.at(i);
    if (!b || b.stream !== p.stream) return null;
    if (b.expandable) {
      // A block followed by unmapped space counts as the size it can grow to.
      const grown = (x: Block) => x.size + (x.next && !x.next.mapped ? x.next.size : 0);
      for (let next = free.at(i + 1); b.expandable && next && next.stream === p.stream && grown(next) < grown(b); next = free.at(i + 1)) {
        b = next;
        i++;
      }
    }
    if (p.size < cfg.maxSplitSize && b.size >= cfg.maxSplitSize) return null;
    if (p.size >= cfg.maxSplitSize && b.size >= p.size + cfg.maxNonSplitRoundingSize) return null;
    free.erase(b);
    return b;
  }

  /** should_split: small pool (or expandable segments) if >= 512 B remain; large pool only if more than 1 MiB remains. */
  private shouldSplit(b: Block, size: number): boolean {
    const remaining = b.size - size;
    if (b.pool.isSmall || this.core.config.expandableSegments) return remaining >= MIN_BLOCK_SIZE;
    return size < this.core.config.maxSplitSize && remaining > SMALL_SIZE;
  }

  /** alloc_found_block: splits off the front of the block when should_split says so, and marks it in use. */
  private allocFoundBlock(found: Block, p: AllocParams, requested: number): Block {
    let block = found;
    if (this.shouldSplit(found, p.size)) {
      const rest = found;
      block = this.core.newBlock({ stream: p.stream, size: p.size, ptr: rest.ptr, pool: p.pool, mapped: true, expandable: rest.expandable, prev: rest.prev, next: rest });
      if (block.prev) block.prev.next = block;
      rest.prev = block;
      rest.ptr += p.size;
      rest.size -= p.size;
      p.pool.blocks.insert(rest);
    }
    block.allocated = true;
    block.requested = requested;
    this.core.active.add(block);
    this.core.stats.addAllocated(p.pool.isSmall, block.size, requested);
    return block;
  }
}


