import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes } from '../../../extension/engine/units';
import { downsampleIndices, measuredSeries, panelState, phaseSpans, summaryItems } from '../../../extension/presentation/timeline-state';
import { analyzeModel } from '../../../extension/engine/analyze';
import { withDefaults } from '../../../extension/engine/settings';
import { annotatedMlp, MLP_FILE, mlpProfile, ortRun } from './fixtures';

test('panel state of the inference MLP: curve, peak, table by line', () => {
  const s = panelState(mlpProfile(), { documentUri: 'file:///ws/mlp.ts', title: 'mlp.ts', budget: null });
  assert.deepEqual(s.points.map((p) => p.liveBytes), [320, 320, 344]);
  // W2 (96 B) counts with ORT's arena as 'other' (stored tensors of at most 127 B are copied into it).
  assert.deepEqual(s.categories, ['weights', 'activations', 'inputs', 'outputs', 'other']);
  // Each point's stack adds up to its live bytes.
  for (const p of s.points) assert.equal(p.stack.reduce((a, b) => a + b, 0), p.liveBytes);
  assert.deepEqual(s.peak, {
    index: 2, bytes: 344, bytesLabel: '344 B', phase: 'forward', op: 'MatMul', node: 'fc2',
    source: { file: MLP_FILE, line: 12, label: 'mlp.ts:12' },
  });
  assert.deepEqual(s.liveAtPeak.map((r) => [r.label, r.peakBytes, r.ops]), [['mlp.ts:10', 224, 'MatMul 64 B'], ['mlp.ts:12', 120, 'MatMul 24 B']]);
  assert.equal(s.liveAtPeak[0].share, 224 / 344);
  assert.deepEqual(s.phases, [{ phase: 'forward', start: 0, end: 2 }]);
  assert.equal(s.measured, null);
  assert.equal(s.analysed.mode, 'infer');
});

test('training phases: forward, backward, optimizer', () => {
  assert.deepEqual(phaseSpans(mlpProfile({ mode: 'train' }).timeline), [
    { phase: 'forward', start: 0, end: 2 }, { phase: 'backward', start: 3, end: 5 }, { phase: 'optimizer', start: 6, end: 6 },
  ]);
});

test('downsampling keeps the ends, the peak and the largest point per bucket', () => {
  const values = Array.from({ length: 10_000 }, (_, i) => (i % 100) + (i === 7_777 ? 1e6 : 0));
  const kept = downsampleIndices(values, 200, 7_777);
  assert.ok(kept.length <= 200);
  assert.ok(kept.includes(0) && kept.includes(9_999) && kept.includes(7_777));
  // n=8, at most 5: the ends and the peak (3), then 2 buckets [0,4) and [4,8) keep their largest (8 at 3, 7 at 5).
  assert.deepEqual(downsampleIndices([1, 5, 2, 8, 3, 7, 4, 6], 5, 3), [0, 3, 5, 7]);
  assert.deepEqual(downsampleIndices([5, 1, 9], 10, 2), [0, 1, 2]);
});

test('long timelines are drawn with at most maxPoints points and the peak among them', () => {
  const p = mlpProfile({ mode: 'train' });
  const s = panelState(p, { documentUri: 'u', title: 't', budget: null, maxPoints: 3 });
  assert.ok(s.points.length <= 3);
  assert.ok(s.points.some((x) => x.index === s.peak.index && x.liveBytes === 1176)); // the MLP step peak of mlp-accounting.test.ts
  assert.equal(s.totalSteps, 7);
});

test('measured series: arena in use plus the weights and inputs of the step', () => {
  const p = mlpProfile();
  p.measured = ortRun({
    peakBytes: 128, arenaHeldBytes: 256,
    perNode: [
      { node: 'fc1', op: 'MatMul', durationUs: 5, outputBytes: 64, inUseBytes: 64, source: null },
      { node: 'fc2', op: 'MatMul', durationUs: 4, outputBytes: 24, inUseBytes: 88, source: null },
      { node: 'not-in-the-graph', op: 'X', durationUs: 1, outputBytes: 0, inUseBytes: 1, source: null },
    ],
  });
  const m = measuredSeries(p)!;
  // W1 128 + inputs 32 beside the arena at both steps (W2, 96 B, is in ORT's arena figure).
  assert.deepEqual(m.points, [{ index: 0, bytes: 64 + 160 }, { index: 2, bytes: 88 + 160 }]);
  assert.equal(m.peakLabel, '128 B');
});

test('the summary names the parts of the device memory ONNX Runtime needs, from the profile\'s ortHeld record', () => {
  const p = mlpProfile();
  const held = p.ortHeld;
  assert.ok(held, 'inference profiles carry ortHeld');
  const item = summaryItems(p, null).find((i) => i.label === 'Device memory needed (ONNX Runtime)');
  assert.ok(item);
  const weights = held.deviceBytes - held.prepackedBytes - held.arenaHeldBytes + held.reservedBytes;
  assert.equal(weights, p.totals.weightBytes);
  assert.ok(item.value.startsWith(`${formatBytes(held.deviceBytes)}: weights ${formatBytes(weights)} + prepacked 0 B + arena held ${formatBytes(held.arenaHeldBytes)}`), item.value);
  assert.equal(summaryItems(mlpProfile({ mode: 'train' }), null).some((i) => i.label.startsWith('Device memory')), false);
});

test('the optimised session\'s device memory names weights, prepacked copies and the rest of the arena apart', () => {
  const p = mlpProfile();
  const optimised = analyzeModel(annotatedMlp(), withDefaults({}), { source: MLP_FILE, entry: 'Mlp', ortSession: { intraOpThreads: 1, runs: 2, optimised: true } }).ortHeld!;
  // MlasGemmPackBSize: W1 [4, 8] packs N 8 padded to 16 x K 4 x 4 B = 256 B; W2 [8, 3] 16 x 8 x 4 B = 512 B.
  assert.equal(optimised.prepackedBytes, 256 + 512);
  p.ortOptimised = optimised;
  const item = summaryItems(p, null).find((i) => i.label === "Device memory needed (ONNX Runtime's default optimised session)");
  assert.ok(item);
  assert.ok(item.value.startsWith(`${formatBytes(optimised.deviceBytes)}: weights ${formatBytes(p.totals.weightBytes)} + prepacked 768 B + arena held ${formatBytes(optimised.arenaHeldBytes - 768)}`), item.value);
});
