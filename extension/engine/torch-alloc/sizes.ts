// PyTorch's CUDA caching allocator, size rules. Constants from c10/cuda/CUDACachingAllocator.cpp
// (moved to c10/core/AllocatorConfig.h in 2025); round_size / get_round_size,
// roundup_power2_next_division and get_allocation_size from the same files;
// roundup_power2_divisions(size) from c10/core/AllocatorConfig.cpp.
import type { AllocatorConfig } from './config';

export const MiB = 2 ** 20;
/** kMinBlockSize: all sizes are rounded to at least 512 bytes. */
export const MIN_BLOCK_SIZE = 512;
/** kSmallSize: the largest "small" allocation is 1 MiB. */
export const SMALL_SIZE = MiB;
/** kSmallBuffer: "small" allocations are packed in 2 MiB segments. */
export const SMALL_BUFFER = 2 * MiB;
/** kLargeBuffer: requests between 1 and 10 MiB may use 20 MiB segments (large_segment_size_mb in newer releases). */
export const LARGE_BUFFER = 20 * MiB;
/** kMinLargeAlloc: requests of 10 MiB and more get a segment of their own size. */
export const MIN_LARGE_ALLOC = 10 * MiB;
/** kRoundLarge: such segments are rounded up to 2 MiB. */
export const ROUND_LARGE = 2 * MiB;

/** floor(log2(n)) for a positive safe integer, exact (Math.log2 rounds near powers of two). */
export function floorLog2(n: number): number {
  let k = Math.floor(Math.log2(n));
  while (2 ** k > n) k--;
  while (2 ** (k + 1) <= n) k++;
  return k;
}

export function isPowerOf2(n: number): boolean {
  return n > 0 && 2 ** floorLog2(n) === n;
}

/** Rounds `size` up to the next of `divisions` equal steps between the powers of two around it. */
export function roundupPower2NextDivision(size: number, divisions: number): number {
  if (isPowerOf2(size)) return size;
  const floor = 2 ** floorLog2(size);
  const step = floor / 2 ** floorLog2(divisions);
  if (step < 1) return floor * 2;
  const down = size - (size % step);
  return down === size ? size : down + step;
}

/** Divisions configured for the power-of-two interval of `size`: intervals start at 1 MiB, 16 of them. */
export function divisionsFor(size: number, cfg: AllocatorConfig): number {
  const index = Math.min(Math.max(floorLog2(size) - 20, 0), cfg.roundupPower2Divisions.length - 1);
  return cfg.roundupPower2Divisions[index];
}

/** The block size a request gets: at least 512 B, then a multiple of 512 or the next power-of-two division. */
export function roundSize(size: number, cfg: AllocatorConfig): number {
  if (size < MIN_BLOCK_SIZE) return MIN_BLOCK_SIZE;
  const divisions = divisionsFor(size, cfg);
  if (divisions > 1 && size > MIN_BLOCK_SIZE * divisions) return roundupPower2NextDivision(size, divisions);
  return MIN_BLOCK_SIZE * Math.ceil(size / MIN_BLOCK_SIZE);
}

/** The segment cudaMalloc is asked for when no cached block fits a rounded request. */
export function allocationSize(size: number, cfg: AllocatorConfig): number {
  if (size <= SMALL_SIZE) return SMALL_BUFFER;
  if (size < MIN_LARGE_ALLOC) return cfg.largeSegmentSize;
  return ROUND_LARGE * Math.ceil(size / ROUND_LARGE);
}
