// The event-sequence simulation and the fits / does-not-fit verdict, on sequences worked by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findGpu, GPUS } from '../../../extension/engine/torch-alloc/gpus';
import { simulateAllocator, type AllocatorEvent } from '../../../extension/engine/torch-alloc/simulate';
import { MiB } from '../../../extension/engine/torch-alloc/sizes';
import { fitVerdict } from '../../../extension/engine/torch-alloc/verdict';

const alloc = (id: string, bytes: number): AllocatorEvent => ({ kind: 'alloc', id, bytes });
const free = (id: string): AllocatorEvent => ({ kind: 'free', id });

// A toy step: weights 12 MiB; forward saves a 5 MiB activation and a 1000 B scalar; backward
// frees them after making a 12 MiB gradient.
const step: AllocatorEvent[] = [
  alloc('w', 12 * MiB),
  { kind: 'phase', name: 'forward' },
  alloc('act', 5 * MiB), // 20 MiB segment, split: 5 used, 15 free
  alloc('loss', 1000), // small pool: 2 MiB segment
  { kind: 'phase', name: 'backward' },
  alloc('grad', 12 * MiB), // takes the free 15 MiB block: 3 MiB left > 1 MiB -> split
  free('act'),
  free('loss'),
];

test('allocated and reserved after every event, peaks with the event that first reached them', () => {
  const r = simulateAllocator(step);
  const seg = 12 * MiB + 20 * MiB + 2 * MiB;
  assert.deepEqual(r.reserved, [12 * MiB, 12 * MiB, 32 * MiB, seg, seg, seg, seg, seg]);
  assert.deepEqual(r.allocated, [12 * MiB, 12 * MiB, 17 * MiB, 17 * MiB + 1024, 17 * MiB + 1024, 29 * MiB + 1024, 24 * MiB + 1024, 24 * MiB]);
  assert.deepEqual(r.peakReserved, { bytes: seg, event: 3 });
  assert.deepEqual(r.peakAllocated, { bytes: 29 * MiB + 1024, event: 5 });
  assert.deepEqual(r.final, { allocatedBytes: 24 * MiB, reservedBytes: seg });
  assert.deepEqual(r.phases.map((p) => [p.name, p.allocatedPeak, p.reservedPeak]), [['forward', 17 * MiB + 1024, seg], ['backward', 29 * MiB + 1024, seg]]);
  assert.equal(r.deviceAllocs, 3);
  assert.equal(r.oom, null);
});

test('the segments at the reserved peak, as a snapshot would list them', () => {
  const r = simulateAllocator(step);
  assert.equal(r.atPeak.event, 3);
  assert.deepEqual(r.atPeak.segments.map((s) => [s.pool, s.totalSize, s.blocks.map((b) => b.size)]), [
    ['large', 12 * MiB, [12 * MiB]],
    ['large', 20 * MiB, [5 * MiB, 15 * MiB]],
    ['small', 2 * MiB, [1024, 2 * MiB - 1024]],
  ]);
  const f = r.atPeak.fragmentation;
  assert.equal(f.cachedFreeBytes, 34 * MiB - (17 * MiB + 1024));
  assert.equal(f.roundingBytes, 1024 - 1000);
  assert.equal(f.inactiveSplitBytes, 15 * MiB + 2 * MiB - 1024);
  assert.equal(f.largestFreeBlock, 15 * MiB);
});

test('zero-byte tensors never reach the allocator; empty_cache events release cached segments', () => {
  const r = simulateAllocator([alloc('e', 0), alloc('a', 12 * MiB), free('a'), free('e'), { kind: 'empty_cache' }]);
  assert.deepEqual(r.reserved, [0, 12 * MiB, 12 * MiB, 12 * MiB, 0]);
});

test('bad event sequences get one line naming the event', () => {
  assert.throws(() => simulateAllocator([free('x')]), /^Error: allocation events: event 0 frees 'x', which is not allocated$|event 0 frees 'x', which is not allocated$/);
  assert.throws(() => simulateAllocator([alloc('x', 1), alloc('x', 1)]), /event 1 allocates 'x', which is already allocated$/);
  assert.throws(() => simulateAllocator([alloc('x', -4)]), /event 0 \('x'\) has size -4; expected a whole number of bytes >= 0$/);
  assert.throws(() => simulateAllocator([alloc('x', 1.5)]), /has size 1.5/);
});

test('out of memory stops the run at the event, with what was allocated and reserved', () => {
  const r = simulateAllocator(step, { deviceBytes: 33 * MiB });
  assert.deepEqual(r.oom, {
    event: 3, id: 'loss', requestedBytes: 1000, roundedBytes: 1024, allocSize: 2 * MiB,
    allocatedBytes: 17 * MiB, reservedBytes: 32 * MiB, deviceBytes: 33 * MiB,
  });
  assert.equal(r.reserved.length, 3);
});

test('verdict on a named GPU: the limit is the driver figure less memory outside PyTorch', () => {
  const t4 = findGpu('T4');
  assert.equal(t4.nvmlBytes, 15_360 * MiB);
  // One tensor of exactly NVML's total: a segment of that size (a multiple of 2 MiB) just fits.
  const whole = fitVerdict([alloc('x', 15_360 * MiB)], t4);
  assert.equal(whole.fits, true);
  assert.equal(whole.headroomBytes, 0);
  assert.equal(whole.basis, 'nvml-total');
  const over = fitVerdict([alloc('x', 15_360 * MiB + 1)], t4);
  assert.equal(over.fits, false);
  assert.equal(over.oom?.allocSize, 15_362 * MiB);
  const context = fitVerdict([alloc('x', 15_000 * MiB)], t4, { nonPyTorchBytes: 400 * MiB });
  assert.equal(context.fits, false);
  assert.equal(context.limitBytes, 14_960 * MiB);
  assert.equal(context.notes.length, 1);
});

test('the A100 40GB verdict starts from the CUDA runtime figure where one was recorded', () => {
  const v = fitVerdict([alloc('x', 40 * 1024 * MiB)], findGpu('a100-40gb'));
  assert.equal(v.basis, 'cuda-total-global-mem');
  assert.equal(v.limitBytes, 42_298_834_944);
  assert.equal(v.fits, false); // 40 GiB = 42,949,672,960 B > 42,298,834,944 B
});

test('GPU table: sources for every figure; lookups by id prefix; unknown names listed', () => {
  for (const g of GPUS) {
    assert.ok(g.nvmlSource.length > 10 && g.nvmlBytes % MiB === 0, g.id);
    assert.equal(g.cudaBytes === null, g.cudaSource === null, g.id);
  }
  assert.equal(findGpu('h100').id, 'h100-80gb');
  assert.equal(findGpu('RTX 4090').id, 'rtx-4090');
  assert.throws(() => findGpu('a100'), /GPU 'a100' is ambiguous: a100-80gb, a100-40gb/);
  assert.throws(() => findGpu('v100'), /GPU 'v100' is not in the table \(known: h100-80gb, /);
});
