// The accuracy harness's arithmetic on hand-made figures (the held-out models themselves are never
// read by unit tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareModel, matchNodes, pair, summariseRows } from '../../bench/accuracy/compare-rows';
import { estimateFigures } from '../../bench/accuracy/estimate-figures';
import { errorText, formatTable } from '../../bench/accuracy/format';
import type { Measurement } from '../../bench/accuracy/measure';
import { mlpProfile } from '../presentation/fixtures';

const session = (peakBytes: number, nodes: [string, number | null][]) => ({
  peakBytes, peakSource: 'arena-peak' as const, arenaHeldBytes: null,
  nodes: nodes.map(([node, requestedInUseBytes]) => ({ node, op: 'Op', executions: 1, requestedInUseBytes, inUseBytes: null })),
});

test('errors read as the estimate below or above the measured figure', () => {
  assert.deepEqual(pair(75, 100), { estimate: 75, measured: 100, errorPct: -25 });
  assert.equal(errorText(pair(75, 100).errorPct), '25.0% below');
  assert.equal(errorText(pair(103, 100).errorPct), '3.0% above');
  assert.equal(errorText(pair(0, 0).errorPct), 'exact');
  assert.equal(errorText(pair(1, 0).errorPct), '100.0% above');
});

test('the estimate side reads ORT\'s simulated figures from the profile (ortHeld)', () => {
  // x [2, 4] fp32 (32 B, the caller's), W1 [4, 8] (128 B), W2 [8, 3] (96 B: at most 127 B, so ORT
  // copies it into reserved arena memory), h [2, 8] (64 B; Relu writes it in place), y [2, 3]
  // (24 B, a graph output). Requested: 96 + 64, then + 24. Chunks: 96 reserved unrounded, h and y
  // 256 B each (RoundedBytes).
  const est = estimateFigures(mlpProfile(), mlpProfile());
  assert.deepEqual([...est.requestedAfterNode], [['fc1', 160], ['relu', 160], ['fc2', 184]]);
  assert.equal(est.arenaPeakBytes, 96 + 256 + 256);
  assert.equal(est.weightBytes, 224);
});

test('node matching counts nodes within 1 KiB, and nodes the estimate lacks as misses', () => {
  const est = { ...estimateFigures(mlpProfile(), mlpProfile()), requestedAfterNode: new Map([['a', 5000], ['b', 5000]]) };
  const m: Measurement = { key: 'k', ortVersion: 'v', ep: 'cpu', attribution: session(9000, [['a', 5900], ['b', 6100], ['inside_if', 100], ['no_figure', null]]), optimised: null, optimisedPeaks: [], warnings: [] };
  assert.deepEqual(matchNodes(est, m), { measured: 3, within: 1, missing: 1, share: 1 / 3 });
  const row = compareModel('toy', 'npm', est, est.weightBytes + 8, m, []);
  assert.equal(row.weights!.differenceBytes, -8);
  assert.equal(row.optimised, null);
  const summary = summariseRows([row, { name: 'broken', origin: 'npm', ok: false, error: 'estimate: x' }]);
  assert.equal(summary.failed, 1);
  assert.equal(summary.weightsExact, 0);
  assert.equal(summary.nodesWithinShare, 1 / 3);
});

test('the optimised estimate is held against the largest of the fresh sessions\' peaks, and the table shows the least', () => {
  const est = { ...estimateFigures(mlpProfile(), mlpProfile()), optimisedPeakBytes: 9000 };
  const m: Measurement = {
    key: 'k', ortVersion: 'v', ep: 'cpu', attribution: session(9000, [['a', 5900]]), optimised: session(6000, []),
    optimisedPeaks: [6000, 10000, 8000], warnings: [],
  };
  const row = compareModel('toy', 'npm', est, est.weightBytes, m, []);
  assert.deepEqual(row.optimised, { estimate: 9000, measured: 10000, errorPct: -10 });
  assert.deepEqual(row.optimisedPeaks, [6000, 10000, 8000]);
  const table = formatTable([row], summariseRows([row]));
  assert.match(table, /10\.0% below \(largest of 3 sessions, least 5\.9 KiB\)/);
});
