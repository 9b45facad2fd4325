// Worked examples of onnxruntime/core/framework/bfc_arena.cc (the version with
// max_power_of_two_extend_bytes, ORT >= 1.17), each derived by hand from the function named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BfcArena, binForSize, ORT_ARENA_DEFAULTS, roundedBytes } from '../../../extension/engine/ort/bfc-arena';

const MiB = 1 << 20;

test('RoundedBytes: requests round up to 256 B', () => {
  assert.deepEqual([1, 255, 256, 257, 1000].map(roundedBytes), [256, 256, 256, 512, 1024]);
});

test('BinNumForSize: bin i starts at 256·2^i; everything from 256 MiB up is in bin 20', () => {
  assert.deepEqual([256, 511, 512, 1024, 2047, 256 * MiB - 1, 256 * MiB, 1 << 30].map(binForSize), [0, 0, 1, 2, 2, 19, 20, 20]);
});

test('Extend (kNextPowerOfTwo): a first small request gets the 1 MiB initial region, split to the rounded size', () => {
  const a = new BfcArena();
  const h = a.allocate(1000);
  assert.ok(h !== null);
  const s = a.snapshot();
  // 1 MiB >= 2 x 1024, so SplitFreeChunkFromBin splits: the chunk is the rounded request.
  assert.deepEqual([s.inUseBytes, s.requestedInUseBytes, s.heldBytes, s.regions], [1024, 1000, MiB, [MiB]]);
});

test('SplitFreeChunkFromBin: a 1.53 MiB request takes a whole 2 MiB region (not twice the request, leftover under 128 MiB)', () => {
  // ORT's own profile of efficientnet_b0's first Conv (32x112x112 fp32 = 1,605,632 B) shows 2,097,152 B in use.
  const a = new BfcArena();
  a.allocate(1_605_632);
  const s = a.snapshot();
  assert.deepEqual([s.inUseBytes, s.requestedInUseBytes, s.regions], [2 * MiB, 1_605_632, [2 * MiB]]);
});

test('SplitFreeChunkFromBin: with max_dead_bytes_per_chunk below the leftover the chunk is split', () => {
  const a = new BfcArena({ ...ORT_ARENA_DEFAULTS, maxDeadBytesPerChunk: 1024 });
  a.allocate(1_605_632);
  assert.equal(a.snapshot().inUseBytes, 1_605_632);
});

test('Extend: after an exact fit the next region doubles; after a doubled one it does not', () => {
  const a = new BfcArena();
  a.allocate(1_605_632); // 1 MiB doubled to 2 MiB to fit: curr stays 2 MiB
  a.allocate(MiB + 512); // fits 2 MiB: region 2 MiB, then curr doubles to 4 MiB
  a.allocate(MiB + 512); // nothing free that fits: region 4 MiB
  assert.deepEqual(a.snapshot().regions, [2 * MiB, 2 * MiB, 4 * MiB]);
});

test('Extend: the doubling after an exact fit stops at max_power_of_two_extend_bytes', () => {
  const a = new BfcArena({ ...ORT_ARENA_DEFAULTS, maxPowerOfTwoExtendBytes: 2 * MiB });
  a.allocate(MiB); // region 1 MiB; 1 MiB < 2 MiB / 2 is false, so curr = cap = 2 MiB
  a.allocate(MiB); // region 2 MiB; curr stays at the cap
  a.allocate(MiB); // the remainder of the 2 MiB region fits: no region
  a.allocate(MiB); // region 2 MiB, not 4 MiB
  assert.deepEqual(a.snapshot().regions, [MiB, 2 * MiB, 2 * MiB]);
});

test('Extend (kSameAsRequested): each region is the rounded request', () => {
  const a = new BfcArena({ ...ORT_ARENA_DEFAULTS, extendStrategy: 'same-as-requested' });
  a.allocate(1000);
  a.allocate(3 * MiB + 1);
  assert.deepEqual(a.snapshot().regions, [1024, 3 * MiB + 256]);
});

test('Coalesce: freed neighbours merge, and the merged chunk is the best fit for a request of their sum', () => {
  const a = new BfcArena();
  const x = a.allocate(256)!, y = a.allocate(256)!;
  a.allocate(256);
  a.free(y);
  a.free(x); // merges with y (next): one 512 B chunk at x's address
  const z = a.allocate(512)!;
  assert.deepEqual(a.chunkOf(z), { address: a.chunkOf(x).address, size: 512 });
});

test('Coalesce never crosses regions: two freed regions do not serve a request larger than each', () => {
  const a = new BfcArena();
  const r1 = a.allocate(MiB)!; // region 1 MiB (exact fit; curr -> 2 MiB)
  const r2 = a.allocate(2 * MiB)!; // region 2 MiB (curr -> 4 MiB)
  a.free(r1);
  a.free(r2);
  a.allocate(3 * MiB); // 3 MiB free in total, but in two regions: a 4 MiB region is added
  assert.deepEqual(a.snapshot().regions, [MiB, 2 * MiB, 4 * MiB]);
});

test('FindChunkPtr: among free chunks of one size the lowest address wins; a smaller fitting chunk beats a larger one', () => {
  const a = new BfcArena();
  const hs = [1, 2, 3, 4, 5].map(() => a.allocate(1024)!);
  a.free(hs[3]);
  a.free(hs[1]); // two free 1 KiB chunks, hs[1] lower
  const got = a.allocate(1000)!;
  assert.equal(a.chunkOf(got).address, a.chunkOf(hs[1]).address);
  const small = a.allocate(700)!; // the 1 KiB chunk at hs[3], not the large remainder
  assert.equal(a.chunkOf(small).address, a.chunkOf(hs[3]).address);
  assert.equal(a.chunkOf(small).size, 1024); // 1024 < 2 x 768: not split
});

test('stats: the in-use peak is a lifetime maximum; held bytes never shrink', () => {
  const a = new BfcArena();
  const x = a.allocate(4096)!;
  a.free(x);
  a.allocate(256);
  const s = a.snapshot();
  assert.deepEqual([s.inUseBytes, s.peakInUseBytes, s.heldBytes], [256, 4096, MiB]);
});

test('a 0-byte request gets no chunk (ORT returns nullptr)', () => {
  const a = new BfcArena();
  assert.equal(a.allocate(0), null);
  assert.equal(a.snapshot().heldBytes, 0);
});
