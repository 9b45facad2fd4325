// The simulated caching allocator on worked examples derived by hand from
// c10/cuda/CUDACachingAllocator.cpp (DeviceCachingAllocator::malloc, get_free_block,
// should_split, alloc_found_block, free_block, try_merge_blocks, alloc_block,
// release_available_cached_blocks, release_cached_blocks). Each test names the rule it checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CachingAllocator } from '../../../extension/engine/torch-alloc/allocator';
import type { Block } from '../../../extension/engine/torch-alloc/blocks';
import { DEFAULT_ALLOCATOR_CONFIG, parseAllocConf } from '../../../extension/engine/torch-alloc/config';
import { fragmentationOf, segmentsOf } from '../../../extension/engine/torch-alloc/segment-view';
import { MiB } from '../../../extension/engine/torch-alloc/sizes';

function ok(a: CachingAllocator, bytes: number, stream = 0): Block {
  const r = a.malloc(bytes, stream);
  assert.equal(r.kind, 'ok', `malloc(${bytes}) ran out of memory`);
  return (r as { block: Block }).block;
}

/** Each segment as [pool, total, [block size, allocated]...]. */
function layout(a: CachingAllocator): [string, number, [number, boolean][]][] {
  return segmentsOf(a.core).map((s) => [s.pool, s.totalSize, s.blocks.map((b): [number, boolean] => [b.size, b.allocated])]);
}

test('memory_allocated counts rounded block sizes, not requests', () => {
  const a = new CachingAllocator(DEFAULT_ALLOCATOR_CONFIG);
  ok(a, 1);
  assert.equal(a.stats.allocated, 512);
  assert.equal(a.stats.requested, 1);
  ok(a, 1_000_000);
  assert.equal(a.stats.allocated, 512 + 1_000_448);
  assert.equal(a.stats.reserved, 2 * MiB); // both fit one 2 MiB small segment
});

test('small pool: a 2 MiB segment is split while at least 512 B would remain', () => {
  const a = new CachingAllocator(DEFAULT_ALLOCATOR_CONFIG);
  ok(a, MiB); // the largest small request: 2 MiB segment, 1 MiB remains -> split
  ok(a, MiB - 512); // 512 B remain -> split
  ok(a, 512); // exact fit
  assert.deepEqual(layout(a), [['small', 2 * MiB, [[MiB, true], [MiB - 512, true], [512, true]]]]);
  assert.equal(a.stats.allocated, 2 * MiB);
  assert.equal(a.stats.reserved, 2 * MiB);
});

test('large pool: 1-10 MiB requests get a 20 MiB segment; a block is split only if more than 1 MiB remains', () => {
  const a = new CachingAllocator(DEFAULT_ALLOCATOR_CONFIG);
  ok(a, 5 * MiB); // 20 MiB segment, 15 MiB remain -> split
  assert.deepEqual(layout(a), [['large', 20 * MiB, [[5 * MiB, true], [15 * MiB, false]]]]);
  ok(a, 14 * MiB); // exactly 1 MiB would remain: not more than 1 MiB -> the whole 15 MiB block
  assert.deepEqual(layout(a), [['large', 20 * MiB, [[5 * MiB, true], [15 * MiB, true]]]]);
  assert.equal(a.stats.allocated, 20 * MiB);
  assert.equal(a.stats.requested, 19 * MiB);
});

test('segment sizes on a miss: 2 MiB, 20 MiB, then the request rounded up to 2 MiB from 10 MiB on', () => {
  const cases: [number, number][] = [[MiB, 2 * MiB], [MiB + 1, 20 * MiB], [10 * MiB - 512, 20 * MiB], [10 * MiB, 10 * MiB], [11 * MiB, 12 * MiB], [21 * MiB + 3, 22 * MiB]];
  for (const [request, segment] of cases) {
    const a = new CachingAllocator(DEFAULT_ALLOCATOR_CONFIG);
    ok(a, request);
    assert.equal(a.stats.reserved, segment, `request ${request}`);
  }
});

test('a request of 10 MiB or more splits its own segment only when over 1 MiB is left after rounding', () => {
  const a = new CachingAllocator(DEFAULT_ALLOCATOR_CONFIG);
  ok(a, 12 * MiB + 1); // rounded 12 MiB + 512, segment 14 MiB: 2 MiB - 512 remain -> split
  assert.deepEqual(layout(a), [['large', 14 * MiB, [[12 * MiB + 512, true], [2 * MiB - 512, false]]]]);
  const b = new CachingAllocator(DEFAULT_ALLOCATOR_CONFIG);
  ok(b, 13 * MiB + 1); // segment 14 MiB: 1 MiB - 512 remain -> not split, the block is 14 MiB
  assert.equal(b.stats.allocated, 14 * MiB);
});

test('best fit: the smallest free block that fits, then the lowest address', () => {
  const a = new CachingAllocator(DEFAULT_ALLOCATOR_CONFIG);
  const blocks = [12, 16, 14, 12].map((m) => ok(a, m * MiB)); // four segments of exactly these sizes
  for (const b of blocks) a.free(b);
  const [first, , third, fourth] = blocks;
  const reserved = a.stats.reserved;
  const got = ok(a, 13 * MiB);
  assert.equal(got.ptr, third.ptr); // 14 MiB beats 16 MiB; 1 MiB left is not split
  assert.equal(got.size, 14 * MiB);
  const tie = ok(a, 11 * MiB);
  assert.equal(tie.ptr, first.ptr); // two free 12 MiB segments: the lower address
  assert.notEqual(tie.ptr, fourth.ptr);
  assert.equal(a.stats.reserved, reserved); // no new segment
});

test('free merges with free neighbours inside its segment, never across segments', () => {
  const a = new CachingAllocator(DEFAULT_ALLOCATOR_CONFIG);
  const [x, y, z, w] = [ok(a, 1024), ok(a, 1024), ok(a, 1024), ok(a, MiB)];
  const rest = 2 * MiB - 3072 - MiB; // 1,045,504 B left in the first segment: too small for another 1 MiB
  const v = ok(a, MiB); // so this opens a second segment, right after the first in the address space
  assert.equal(segmentsOf(a.core)[1].address, segmentsOf(a.core)[0].address + 2 * MiB);
  a.free(y);
  assert.deepEqual(layout(a)[0][2], [[1024, true], [1024, false], [1024, true], [MiB, true], [rest, false]]);
  a.free(x); // merges with y
  assert.deepEqual(layout(a)[0][2], [[2048, false], [1024, true], [MiB, true], [rest, false]]);
  assert.equal(fragmentationOf(a.core).inactiveSplitBytes, 2048 + rest + MiB);
  a.emptyCache(); // both segments hold a block in use: nothing to release
  assert.equal(a.stats.reserved, 4 * MiB);
  a.free(z);
  a.free(w); // merges both ways: the first segment is one free block again
  a.free(v);
  assert.deepEqual(layout(a), [['small', 2 * MiB, [[2 * MiB, false]]], ['small', 2 * MiB, [[2 * MiB, false]]]]);
  a.emptyCache();
  assert.equal(a.stats.reserved, 0);
  assert.equal(a.stats.numDeviceFree, 2);
});

test('max_split_size: a smaller request never takes an oversize block, a larger one only within max_non_split_rounding', () => {
  const cfg = parseAllocConf('max_split_size_mb:20').config;
  const a = new CachingAllocator(cfg);
  a.free(ok(a, 30 * MiB)); // a cached 30 MiB block, at or above max_split_size
  ok(a, 12 * MiB); // below max_split_size: may not take it -> a new 12 MiB segment
  assert.equal(a.stats.reserved, 42 * MiB);
  const big = ok(a, 25 * MiB); // 30 < 25 + 20: takes the whole 30 MiB block, unsplit
  assert.equal(big.size, 30 * MiB);
  a.free(big);
  ok(a, 21 * MiB); // 21 + 20 = 41 > 30: still takes it
  assert.equal(a.stats.reserved, 42 * MiB);
  const b = new CachingAllocator(cfg);
  b.free(ok(b, 50 * MiB));
  ok(b, 22 * MiB); // 50 >= 22 + 20: refused -> a new 22 MiB segment
  assert.equal(b.stats.reserved, 72 * MiB);
});

test('out of memory: with max_split_size set, oversize cached blocks are freed first (no retry counted)', () => {
  const a = new CachingAllocator(parseAllocConf('max_split_size_mb:20').config, 60 * MiB);
  a.free(ok(a, 50 * MiB));
  ok(a, 22 * MiB); // 50 + 22 > 60: release_available_cached_blocks frees the 50 MiB block, cudaMalloc succeeds
  assert.equal(a.stats.reserved, 22 * MiB);
  assert.equal(a.stats.numAllocRetries, 0);
  assert.equal(a.stats.numDeviceFree, 1);
});

test('out of memory: free every unsplit cached segment and retry, then give up', () => {
  const a = new CachingAllocator(DEFAULT_ALLOCATOR_CONFIG, 30 * MiB);
  const x = ok(a, 12 * MiB);
  ok(a, 12 * MiB);
  a.free(x);
  ok(a, 14 * MiB); // 24 + 14 > 30; the free 12 MiB segment is released; 12 + 14 <= 30
  assert.equal(a.stats.reserved, 26 * MiB);
  assert.equal(a.stats.numAllocRetries, 1);
  const r = a.malloc(6 * MiB); // wants a 20 MiB segment: 26 + 20 > 30 and nothing is cached
  assert.deepEqual(r, { kind: 'oom', requested: 6 * MiB, rounded: 6 * MiB, allocSize: 20 * MiB });
  assert.equal(a.stats.numOoms, 1);
  assert.equal(a.stats.reserved, 26 * MiB);
});

test('a split segment is not released on out of memory, even when most of it is free', () => {
  const a = new CachingAllocator(DEFAULT_ALLOCATOR_CONFIG, 22 * MiB);
  ok(a, 2 * MiB); // 20 MiB segment, 18 MiB free but split
  assert.equal(a.malloc(19 * MiB).kind, 'oom'); // 18 < 19, and 20 + 20 > 22 even after release_cached_blocks
  assert.equal(a.stats.reserved, 20 * MiB);
});

test('per-stream pools: a free block is reused only on its own stream', () => {
  const a = new CachingAllocator(DEFAULT_ALLOCATOR_CONFIG);
  a.free(ok(a, 1000, 0));
  ok(a, 1000, 1);
  assert.equal(a.stats.reserved, 4 * MiB);
  assert.deepEqual(segmentsOf(a.core).map((s) => s.stream), [0, 1]);
  ok(a, 1000, 0); // stream 0 reuses its own cached segment
  assert.equal(a.stats.reserved, 4 * MiB);
});
