// Size rules of the caching allocator, each worked by hand from the source:
// round_size / roundup_power2_next_division / get_allocation_size (c10/cuda/CUDACachingAllocator.cpp,
// c10/core/CachingDeviceAllocator.h) and roundup_power2_divisions(size) (c10/core/AllocatorConfig.cpp).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ALLOCATOR_CONFIG, parseAllocConf } from '../../../extension/engine/torch-alloc/config';
import { allocationSize, divisionsFor, floorLog2, MiB, roundSize, roundupPower2NextDivision } from '../../../extension/engine/torch-alloc/sizes';

const cfg = DEFAULT_ALLOCATOR_CONFIG;

test('round_size: at least 512 B, then the next multiple of 512', () => {
  assert.equal(roundSize(1, cfg), 512);
  assert.equal(roundSize(512, cfg), 512);
  assert.equal(roundSize(513, cfg), 1024);
  // 1e6 / 512 = 1953.125 -> 1954 * 512
  assert.equal(roundSize(1_000_000, cfg), 1_000_448);
  assert.equal(roundSize(12 * MiB + 1, cfg), 12 * MiB + 512);
});

test("roundup_power2_next_division: the source's own example, 1200 in 4 divisions of [1024, 2048) -> 1280", () => {
  assert.equal(roundupPower2NextDivision(1200, 4), 1280);
  assert.equal(roundupPower2NextDivision(4096, 4), 4096); // powers of two stay
  assert.equal(roundupPower2NextDivision(1280, 4), 1280); // already on a division
});

test('round_size with roundup_power2_divisions:4: only above 512 * divisions, else 512 B rounding', () => {
  const four = parseAllocConf('roundup_power2_divisions:4').config;
  assert.equal(roundSize(1200, four), 1536); // 1200 <= 2048 = 512 * 4: plain rounding
  assert.equal(roundSize(5200, four), 6144); // [4096, 8192) in steps of 1024: 5120 -> 6144
  assert.equal(roundSize(Math.round(1.2 * MiB), four), 1.25 * MiB); // [1, 2) MiB in steps of 256 KiB
  assert.equal(roundSize(5200, cfg), 5632); // the default: 11 * 512
});

test('roundup_power2_divisions intervals: 16 of them from 1 MiB, keyed in MiB, as AllocatorConfigTest checks', () => {
  const c = parseAllocConf('roundup_power2_divisions:[64:8,128:2,256:4,512:2,1024:4,>:1]').config;
  assert.equal(divisionsFor(32 * MiB, c), 8);
  assert.equal(divisionsFor(64 * MiB, c), 8);
  assert.equal(divisionsFor(128 * MiB, c), 2);
  assert.equal(divisionsFor(256 * MiB, c), 4);
  assert.equal(divisionsFor(512 * MiB, c), 2);
  assert.equal(divisionsFor(1024 * MiB, c), 4);
  assert.equal(divisionsFor(2048 * MiB, c), 1);
  assert.equal(divisionsFor(8192 * MiB, c), 1);
  assert.equal(divisionsFor(100, c), 8); // below 1 MiB: the first interval's setting
  assert.equal(divisionsFor(2 ** 40, c), 1); // above 64 GiB: the last interval's
  // 100 MiB + 1 in [64, 128) MiB with 8 divisions: steps of 8 MiB -> 104 MiB
  assert.equal(roundSize(100 * MiB + 1, c), 104 * MiB);
});

test('an interval between listed ones keeps 0 divisions; > covers those after the last listed (AllocatorConfigTest)', () => {
  const c = parseAllocConf('roundup_power2_divisions:[128:8,256:16,512:1,2048:8,>:2]').config;
  assert.equal(divisionsFor(64 * MiB, c), 8);
  assert.equal(divisionsFor(128 * MiB, c), 8);
  assert.equal(divisionsFor(256 * MiB, c), 16);
  assert.equal(divisionsFor(512 * MiB, c), 1);
  assert.equal(divisionsFor(1024 * MiB, c), 0);
  assert.equal(divisionsFor(2048 * MiB, c), 8);
  assert.equal(divisionsFor(4096 * MiB, c), 2);
  assert.equal(roundSize(1030 * MiB + 1, c), 1030 * MiB + 512); // 0 divisions: plain rounding
});

test('get_allocation_size: 2 MiB up to 1 MiB; 20 MiB below 10 MiB; else the next multiple of 2 MiB', () => {
  assert.equal(allocationSize(512, cfg), 2 * MiB);
  assert.equal(allocationSize(MiB, cfg), 2 * MiB);
  assert.equal(allocationSize(MiB + 512, cfg), 20 * MiB);
  assert.equal(allocationSize(10 * MiB - 512, cfg), 20 * MiB);
  assert.equal(allocationSize(10 * MiB, cfg), 10 * MiB);
  assert.equal(allocationSize(11 * MiB, cfg), 12 * MiB);
  assert.equal(allocationSize(21 * MiB + 512, cfg), 22 * MiB);
  assert.equal(allocationSize(5 * MiB, parseAllocConf('large_segment_size_mb:64').config), 64 * MiB);
});

test('floorLog2 is exact next to powers of two, where Math.log2 rounds', () => {
  assert.equal(floorLog2(2 ** 50 - 1), 49);
  assert.equal(floorLog2(2 ** 50), 50);
  assert.equal(floorLog2(1), 0);
});
