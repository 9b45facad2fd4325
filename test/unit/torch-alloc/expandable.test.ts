// expandable_segments:True, worked by hand from Note [Expandable Segments] and find_expandable_block,
// map_block, try_allocate_expandable_block, unmap_block and should_split in
// c10/cuda/CUDACachingAllocator.cpp: pages of 2 MiB (small pool) and 20 MiB (large pool) mapped into
// one growing range per pool and stream; any remainder of at least 512 B is split off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CachingAllocator } from '../../../extension/engine/torch-alloc/allocator';
import type { Block } from '../../../extension/engine/torch-alloc/blocks';
import { parseAllocConf } from '../../../extension/engine/torch-alloc/config';
import { segmentsOf } from '../../../extension/engine/torch-alloc/segment-view';
import { MiB } from '../../../extension/engine/torch-alloc/sizes';

const expandable = parseAllocConf('expandable_segments:True').config;

function ok(a: CachingAllocator, bytes: number): Block {
  const r = a.malloc(bytes);
  assert.equal(r.kind, 'ok');
  return (r as { block: Block }).block;
}

function layout(a: CachingAllocator): [number, number, [number, boolean][]][] {
  return segmentsOf(a.core).map((s) => [s.address, s.totalSize, s.blocks.map((b): [number, boolean] => [b.size, b.allocated])]);
}

test('small pool: one 2 MiB page mapped for a 512 B request, the rest of the page split off', () => {
  const a = new CachingAllocator(expandable);
  ok(a, 100);
  assert.equal(a.stats.reserved, 2 * MiB);
  const [seg] = segmentsOf(a.core);
  assert.equal(seg.expandable, true);
  assert.deepEqual(seg.blocks.map((b) => [b.size, b.allocated]), [[512, true], [2 * MiB - 512, false]]);
});

test('large pool: pages of 20 MiB; a request that outgrows the free tail maps more pages onto it', () => {
  const a = new CachingAllocator(expandable);
  const x = ok(a, 30 * MiB); // 2 pages = 40 MiB mapped; 10 MiB split off
  assert.equal(a.stats.reserved, 40 * MiB);
  const base = x.ptr;
  assert.deepEqual(layout(a), [[base, 40 * MiB, [[30 * MiB, true], [10 * MiB, false]]]]);
  ok(a, 15 * MiB); // no free block of 15 MiB: the 10 MiB tail grows by one page to 30 MiB, then splits
  assert.equal(a.stats.reserved, 60 * MiB);
  assert.deepEqual(layout(a), [[base, 60 * MiB, [[30 * MiB, true], [15 * MiB, true], [15 * MiB, false]]]]);
  assert.equal(a.stats.numDeviceAlloc, 2); // two cuMemMap rounds, one segment
  assert.equal(a.stats.large.segments, 0); // mapping adds reserved bytes, not segments, as map_block does
});

test('empty_cache unmaps whole free pages only; a page partly in use stays mapped', () => {
  const a = new CachingAllocator(expandable);
  const x = ok(a, 30 * MiB); // pages 0 and 1: [0, 30) x, [30, 40) free
  const base = x.ptr;
  ok(a, 5 * MiB); // takes [30, 35) from the free tail block
  a.free(x); // [0, 30) free
  a.emptyCache(); // page 0 = [0, 20) is wholly free -> unmapped; [20, 30) shares page 1 -> stays
  assert.equal(a.stats.reserved, 20 * MiB);
  assert.deepEqual(layout(a), [[base + 20 * MiB, 20 * MiB, [[10 * MiB, false], [5 * MiB, true], [5 * MiB, false]]]]);
});

test('empty_cache with everything free unmaps every page and drops the segment', () => {
  const a = new CachingAllocator(expandable);
  const x = ok(a, 30 * MiB), y = ok(a, 15 * MiB);
  a.free(x);
  a.free(y);
  assert.deepEqual(layout(a).map((s) => s[2]), [[[60 * MiB, false]]]); // mapped free blocks merged into one
  a.emptyCache();
  assert.equal(a.stats.reserved, 0);
  assert.deepEqual(layout(a), []);
  assert.equal(a.core.expandableSegments.length, 0);
});

test('out of memory: whole free pages are unmapped and the mapping retried', () => {
  const a = new CachingAllocator(expandable, 60 * MiB);
  const x = ok(a, 30 * MiB); // [0, 30) x, [30, 40) free, pages 0-1 mapped
  const base = x.ptr;
  ok(a, 15 * MiB); // the free tail grows by page 2: [30, 45) y, [45, 60) free; 60 MiB mapped, the device is full
  a.free(x); // [0, 30) free
  // 35 MiB: no free block is that large; growing [45, 60) by page 3 needs 80 MiB. release_cached_blocks
  // unmaps page 0 (wholly free; [20, 30) shares page 1 with y), then the retry maps page 3: 40 + 20 = 60.
  const big = ok(a, 35 * MiB);
  assert.equal(big.ptr, base + 45 * MiB);
  assert.equal(a.stats.numAllocRetries, 1);
  assert.equal(a.stats.reserved, 60 * MiB);
  assert.deepEqual(layout(a), [[base + 20 * MiB, 60 * MiB, [[10 * MiB, false], [15 * MiB, true], [35 * MiB, true]]]]);
  // 25 MiB: the unmapped page 0 and the free [20, 30) would do, but remapping page 0 needs 80 MiB: out of memory.
  const r = a.malloc(25 * MiB);
  assert.equal(r.kind, 'oom');
  assert.equal(a.stats.reserved, 60 * MiB);
});
