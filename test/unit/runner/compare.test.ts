// compareRun on hand-built figures: each kind of difference and the note that explains it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { emptyByCategory, type Profile, type TimelinePoint } from '../../../extension/engine/profile';
import { compareRun } from '../../../extension/runner/compare';
import type { NodeMeasurement, RunResult, SessionFigures } from '../../../extension/runner/types';

const W = 1000; // weight bytes live at every step
const I = 100; // input bytes

function point(index: number, node: string, op: string, arenaBytes: number): TimelinePoint {
  const byCategory = { ...emptyByCategory(), weights: W, inputs: I, activations: arenaBytes };
  return { index, node, op, phase: 'forward', liveBytes: W + I + arenaBytes, byCategory, callerBytes: I, source: null };
}

function profile(points: TimelinePoint[]): Profile {
  const peak = points.reduce((a, b) => (b.liveBytes > a.liveBytes ? b : a));
  return {
    schema: 'memlens.profile/1', source: 'm', entry: null,
    settings: { mode: 'infer', batch: 1, seq: 1, dtype: 'fp32', optimizer: 'none', dims: {} },
    params: 250, trainableParams: 0,
    peak: { bytes: peak.liveBytes, phase: 'forward', node: peak.node, op: peak.op, source: null },
    breakdown: peak.byCategory,
    totals: { weightBytes: W, kvCacheBytes: 0, savedActivationBytes: 0, gradientBytes: 0, optimizerStateBytes: 0 },
    lines: [], timeline: points,
    plan: { idealPeakBytes: 0, offsetPlanBytes: 0, fragmentation: 0 },
    unknownTensors: 0, warnings: [],
  };
}

function m(node: string, op: string, outputBytes: number, inUse: number | null, delta: number | null, extra: Partial<NodeMeasurement> = {}): NodeMeasurement {
  return {
    node, op, provider: 'CPU', nodeIndex: null, durationUs: 1, executions: 1, outputBytes, activationBytes: 0, parameterBytes: 0,
    inUseBytes: inUse, requestedInUseBytes: inUse, inUseDeltaBytes: delta, inUsePeakBytes: inUse, arenaHeldBytes: inUse === null ? null : 4096,
    ...extra,
  };
}

function session(nodes: NodeMeasurement[], peakBytes: number, peakSource: SessionFigures['peakSource'] = 'arena-peak'): SessionFigures {
  return {
    level: 'disabled', ep: 'cpu', sessionCreateMs: 1, runWallMs: [1], wallMs: 1, wallTimeProfiled: true, profiledWallMs: 1,
    peakBytes, peakSource, arenaHeldBytes: 4096, rssDeltaBytes: 0, nodes,
  };
}

function result(attribution: SessionFigures, optimised: SessionFigures | null = null): RunResult {
  return {
    ep: 'cpu', providers: [{ ep: 'cpu', status: 'ran', reason: '' }], attribution, optimised, inputs: [], weightBytes: W,
    materialised: null, rssPeakBytes: null, deviceMemory: null, runs: 1, warnings: [],
  };
}

describe('compareRun notes', () => {
  it('explains a node the estimate allocated but ORT ran in place', () => {
    const est = profile([point(0, 'a', 'MatMul', 40_000), point(1, 'act', 'Sigmoid', 80_000)]);
    const run = result(session([m('a', 'MatMul', 40_000, 40_000, 40_000), m('act', 'Sigmoid', 40_000, 40_000, 0)], 40_000));
    const c = compareRun(est, run);
    const act = c.nodes[1];
    assert.equal(act.differenceBytes, -40_000);
    assert.deepEqual(act.notes.map((n) => [n.kind, n.bytes]), [['in-place', -40_000]]);
    assert.equal(act.explained, true);
    assert.equal(c.peak.differencePct, -100);
    assert.equal(c.peak.withinTarget, false);
  });

  it('marks a difference with no known cause as unexplained, with its bytes', () => {
    const est = profile([point(0, 'a', 'Conv', 100_000)]);
    const c = compareRun(est, result(session([m('a', 'Conv', 100_000, 150_000, 150_000)], 150_000)));
    assert.deepEqual(c.nodes[0].notes.map((n) => [n.kind, n.bytes]), [['unexplained', 50_000]]);
    assert.equal(c.nodes[0].explained, false);
    assert.match(c.summary.join('\n'), /1 node\(s\) differ by more than 5% without a known cause: a/);
  });

  it('accepts differences within 5% (or 1 KiB) without notes', () => {
    const est = profile([point(0, 'a', 'Conv', 100_000), point(1, 'b', 'Conv', 200)]);
    const c = compareRun(est, result(session([m('a', 'Conv', 100_000, 104_000, 104_000), m('b', 'Conv', 200, 1200, 1200)], 104_000)));
    assert.deepEqual(c.nodes.map((n) => [n.notes, n.explained]), [[[], true], [[], true]]);
    assert.equal(c.peak.withinTarget, true);
    assert.equal(c.peak.differencePct, (4000 / 104_000) * 100);
  });

  it('attributes differences at nodes ORT ran in another order', () => {
    const est = profile([point(0, 'a', 'Conv', 100_000), point(1, 'b', 'Conv', 200_000), point(2, 'c', 'Add', 300_000)]);
    const run = result(session([m('b', 'Conv', 100_000, 100_000, 100_000), m('a', 'Conv', 100_000, 200_000, 100_000), m('c', 'Add', 100_000, 300_000, 100_000)], 300_000));
    const c = compareRun(est, run);
    assert.deepEqual(c.nodes.map((n) => [n.node, n.notes.map((x) => [x.kind, x.bytes])]), [
      ['a', [['execution-order', 100_000]]], ['b', [['execution-order', -100_000]]], ['c', []],
    ]);
    assert.ok(c.nodes.every((n) => n.explained));
  });

  it('notes Constant nodes that have no kernel and nodes ORT added', () => {
    const est = profile([point(0, 'c', 'Constant', 8), point(1, 'a', 'Add', 16)]);
    const c = compareRun(est, result(session([m('a', 'Add', 8, 16, 8), m('copy', 'MemcpyToHost', 8, 24, 8)], 24)));
    assert.equal(c.nodes[0].notes[0].kind, 'folded');
    assert.match(c.nodes[0].notes[0].detail, /Constant became an initializer/);
    assert.deepEqual(c.nodes.map((n) => n.node), ['c', 'a', 'copy']);
    assert.equal(c.nodes[2].notes[0].kind, 'not-estimated');
  });

  it('counts arena rounding at the peak', () => {
    const est = profile([point(0, 'a', 'Add', 1000)]);
    const run = result(session([m('a', 'Add', 1000, 1024, 1024, { requestedInUseBytes: 1000, inUsePeakBytes: 1024 })], 1024));
    const c = compareRun(est, run);
    assert.deepEqual(c.peak.notes.map((n) => [n.kind, n.bytes]), [['arena-rounding', 24]]);
    assert.equal(c.peak.explained, true);
  });

  it('compares RSS growth with weights and activations when there are no arena figures', () => {
    const est = profile([point(0, 'a', 'Add', 1000)]);
    const c = compareRun(est, result(session([m('a', 'Add', 1000, null, null)], 2000, 'rss-delta')));
    assert.equal(c.peak.estimatedBytes, W + 1000);
    assert.equal(c.nodes[0].measuredBytes, null);
    assert.equal(c.nodes[0].explained, true);
  });

  it('finds fused nodes and prepacked weights in the optimised session', () => {
    const est = profile([point(0, 'mm', 'MatMul', 400), point(1, 'add', 'Add', 800)]);
    const attribution = session([m('mm', 'MatMul', 400, 400, 400, { parameterBytes: 4000 }), m('add', 'Add', 400, 800, 400, { parameterBytes: 40 })], 800);
    const optimised = { ...session([m('fused mm/MatMulAddFusion', 'FusedGemm', 400, 4400, 400, { parameterBytes: 40 })], 4400), level: 'all' as const };
    const o = compareRun(est, result(attribution, optimised)).optimised!;
    assert.deepEqual(o.fused, [{ node: 'mm', into: 'fused mm/MatMulAddFusion' }, { node: 'add', into: null }]);
    assert.equal(o.prepackedBytes, 4000);
    assert.equal(o.peakChangePct, 450);
  });
});
