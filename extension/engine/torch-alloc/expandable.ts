// expandable_segments:True (Note [Expandable Segments] in CUDACachingAllocator.cpp): one address
// range per pool and stream, 1 1/8 of the device's memory, mapped in pages of 2 MiB (small pool)
// or 20 MiB (large pool; large_segment_size_mb) as needed: find_expandable_block, map_block,
// try_allocate_expandable_block, unmap_block, release_expandable_segment.
import type { Block, BlockPool, ExpandableSegment } from './blocks';
import type { AllocatorCore } from './core';
import { SMALL_BUFFER } from './sizes';

/** Address space per expandable segment when the device size is not given: larger than any device, so it bounds nothing. */
const UNBOUNDED_ADDRESS_SPACE = 2 ** 44;

function allocatable(b: Block | null): b is Block {
  return b !== null && !b.allocated;
}

/** The lowest-addressed free-or-unmapped run on this stream with room for `size`, or a new segment's address space. */
function findExpandableBlock(core: AllocatorCore, stream: number, pool: BlockPool, size: number): Block {
  const hasSpace = (start: Block): boolean => {
    let bytes = 0;
    for (let b: Block | null = start; bytes < size && allocatable(b); b = b.next) bytes += b.size;
    return bytes >= size;
  };
  const unmapped = pool.unmapped;
  for (let i = unmapped.lowerBound({ stream, size: 0, ptr: 0 }); i < unmapped.length; i++) {
    const u = unmapped.at(i) as Block;
    if (u.stream !== stream) break;
    const c = allocatable(u.prev) ? u.prev : u;
    if (hasSpace(c)) return c;
  }
  const pageSize = pool.isSmall ? SMALL_BUFFER : core.config.largeSegmentSize;
  const space = core.deviceBytes === Infinity ? UNBOUNDED_ADDRESS_SPACE : core.deviceBytes + core.deviceBytes / 8;
  const pages = Math.ceil(space / pageSize);
  const es: ExpandableSegment = { base: core.reserveAddress(pages * pageSize), pageSize, pages, stream };
  core.expandableSegments.push(es);
  const candidate = core.newBlock({ stream, size: pages * pageSize, ptr: es.base, pool, mapped: false, expandable: es });
  pool.unmapped.insert(candidate);
  return candidate;
}

/** Maps the pages under the first `size` bytes of unmapped `toMap`; false when the device has no room. */
function mapBlock(core: AllocatorCore, toMap: Block, size: number): boolean {
  const es = toMap.expandable as ExpandableSegment, pool = toMap.pool;
  const offset = toMap.ptr - es.base;
  const bytes = (Math.ceil((offset + size) / es.pageSize) - Math.floor(offset / es.pageSize)) * es.pageSize;
  if (!core.deviceHasRoom(bytes)) return false;
  pool.unmapped.erase(toMap);
  toMap.mapped = true;
  if (bytes < toMap.size) {
    const rest = core.newBlock({ stream: toMap.stream, size: toMap.size - bytes, ptr: toMap.ptr + bytes, pool, mapped: false, expandable: es, prev: toMap, next: toMap.next });
    if (toMap.next) toMap.next.prev = rest;
    toMap.next = rest;
    pool.unmapped.insert(rest);
    toMap.size = bytes;
  }
  core.tryMerge(toMap, toMap.prev);
  core.tryMerge(toMap, toMap.next);
  pool.blocks.insert(toMap);
  core.stats.addReserved(pool.isSmall, bytes, 0);
  core.stats.numDeviceAlloc++;
  return true;
}

/** A free block of at least `size` bytes in an expandable segment, mapping pages as needed; null when the device is full. */
export function tryAllocateExpandableBlock(core: AllocatorCore, stream: number, pool: BlockPool, size: number): Block | null {
  let candidate = findExpandableBlock(core, stream, pool, size);
  if (!candidate.mapped && !mapBlock(core, candidate, Math.min(candidate.size, size))) return null;
  while (candidate.size < size) {
    const next = candidate.next;
    // The mapped block merges into `next` as it is mapped, so `next` becomes the candidate.
    if (!next || !mapBlock(core, next, Math.min(size - candidate.size, next.size))) return null;
    candidate = next;
  }
  pool.blocks.erase(candidate);
  return candidate;
}

/** Unmaps the whole pages inside free block `b`, leaving the partial pages at its ends mapped and free. */
export function unmapBlock(core: AllocatorCore, b: Block): void {
  const es = b.expandable as ExpandableSegment, pool = b.pool;
  const offset = b.ptr - es.base;
  const begin = Math.ceil(offset / es.pageSize), end = Math.floor((offset + b.size) / es.pageSize);
  if (begin >= end) return;
  const ptr = es.base + begin * es.pageSize, size = (end - begin) * es.pageSize;
  pool.blocks.erase(b);
  const before = ptr - b.ptr, after = b.size - before - size;
  if (before > 0) {
    const head = core.newBlock({ stream: b.stream, size: before, ptr: b.ptr, pool, mapped: true, expandable: es, prev: b.prev, next: b });
    if (b.prev) b.prev.next = head;
    b.prev = head;
    pool.blocks.insert(head);
  }
  if (after > 0) {
    const tail = core.newBlock({ stream: b.stream, size: after, ptr: ptr + size, pool, mapped: true, expandable: es, prev: b, next: b.next });
    if (b.next) b.next.prev = tail;
    b.next = tail;
    pool.blocks.insert(tail);
  }
  b.ptr = ptr;
  b.size = size;
  b.mapped = false;
  core.tryMerge(b, b.prev);
  core.tryMerge(b, b.next);
  pool.unmapped.insert(b);
  core.stats.addReserved(pool.isSmall, -size, 0);
  core.stats.numDeviceFree++;
}

/** Drops an expandable segment whose whole range is unmapped. */
export function releaseExpandableSegment(core: AllocatorCore, b: Block): void {
  const i = core.expandableSegments.indexOf(b.expandable as ExpandableSegment);
  if (i >= 0) core.expandableSegments.splice(i, 1);
  b.pool.unmapped.erase(b);
}
