// compareRun on hand-built figures: each kind of difference and the note that explains it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { emptyByCategory, type Profile, type TimelinePoint } from '../../../extension/engine/profile';
import type { OrtHeldFigures } from '../../../extension/engine/ort/held-figures';
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
    ep: 'cpu', providers: [{ ep: 'cpu', status: 'ran', reason: '' }], attribution, optimised, optimisedSessionPeaks: optimised ? [optimised.peakBytes] : [], inputs: [], weightBytes: W,
    materialised: null, rssPeakBytes: null, deviceMemory: null, runs: 1, branches: [], warnings: [],
  };
}

const held = (requestedPeakBytes: number, arenaInUsePeakBytes: number, perNode: [string, number, number][]): OrtHeldFigures => ({
  requestedPeakBytes, arenaInUsePeakBytes, arenaHeldBytes: arenaInUsePeakBytes, scratchPeakBytes: 0, scratchNode: null, prepackedBytes: 0, reservedBytes: 0,
  deviceBytes: W + arenaInUsePeakBytes, intraOpThreads: 1, runs: 1, perNode: perNode.map(([node, requestedInUseBytes, arenaInUseBytes]) => ({ node, requestedInUseBytes, arenaInUseBytes })),
});

describe('compareRun notes', () => {
  it('does not explain a node ORT ran in place when the estimate has no simulation: it is observed, not booked', () => {
    const est = profile([point(0, 'a', 'MatMul', 40_000), point(1, 'act', 'Sigmoid', 80_000)]);
    const run = result(session([m('a', 'MatMul', 40_000, 40_000, 40_000), m('act', 'Sigmoid', 40_000, 40_000, 0)], 40_000));
    const c = compareRun(est, run);
    const act = c.nodes[1];
    assert.equal(act.differenceBytes, -40_000);
    assert.deepEqual(act.notes.map((n) => [n.kind, n.bytes]), [['no-simulation', 0], ['in-place-observed', 0]]);
    assert.equal(act.unexplainedBytes, -40_000);
    assert.equal(act.verdict, 'not-explained');
    assert.equal(act.explained, false);
    assert.equal(c.peak.differencePct, -100);
    assert.equal(c.peak.withinTarget, false);
    assert.equal(c.peak.explained, false);
    assert.match(c.summary[0], /estimate 100\.0% above measured: not explained: 39\.1 KiB less measured than the estimate/);
  });

  it('explains a hand-computed case with the simulated plan and arena: 40,000 B kept for reuse, 1 node, chunks of 256 B', () => {
    // Node b: the ideal plan frees a's 40,000 B before b; ORT's planner keeps it for c (same size),
    // so 100,000 + 40,000 requested. The arena serves 140,000 B as 140,032 B (two requests rounded to 256).
    const est = profile([point(0, 'a', 'MatMul', 40_000), point(1, 'b', 'MatMul', 100_000), point(2, 'c', 'Add', 80_000)]);
    est.ortHeld = held(140_000, 140_032, [['a', 40_000, 40_192], ['b', 140_000, 140_032], ['c', 80_000, 80_000]]);
    const run = result(session([
      m('a', 'MatMul', 40_000, 40_192, 40_192, { requestedInUseBytes: 40_000 }),
      m('b', 'MatMul', 100_000, 140_032, 99_840, { requestedInUseBytes: 140_000 }),
      m('c', 'Add', 40_000, 80_000, -60_032, { requestedInUseBytes: 80_000 }),
    ], 140_032));
    const c = compareRun(est, run);
    const b = c.nodes[1];
    assert.deepEqual(b.notes.filter((n) => n.bytes !== 0).map((n) => [n.kind, n.bytes]), [['planner', 40_000]]);
    assert.equal(b.unexplainedBytes, 0);
    assert.equal(b.verdict, 'explained');
    assert.deepEqual(c.peak.notes.map((n) => [n.kind, n.bytes]), [['planner', 40_000], ['arena-rounding', 32]]);
    assert.equal(c.peak.unexplainedBytes, 0);
    assert.equal(c.peak.verdict, 'explained');
    assert.match(c.summary[0], /estimate 28\.6% below measured: explained: the computed notes bring it within 5%/);
  });

  it('reports what is left when the simulation disagrees with the measurement', () => {
    const est = profile([point(0, 'a', 'Conv', 100_000)]);
    est.ortHeld = held(110_000, 110_080, [['a', 110_000, 110_080]]);
    const c = compareRun(est, result(session([m('a', 'Conv', 100_000, 150_000, 150_000)], 150_000)));
    assert.deepEqual(c.nodes[0].notes.map((n) => [n.kind, n.bytes]), [['planner', 10_000]]);
    assert.equal(c.nodes[0].unexplainedBytes, 40_000);
    assert.equal(c.nodes[0].explained, false);
    assert.equal(c.peak.unexplainedBytes, 150_000 - 110_080);
    assert.equal(c.peak.verdict, 'not-explained');
    assert.match(c.summary.join('\n'), /1 node\(s\) differ by more than 5% and are not explained \(largest 39\.1 KiB left\): a/);
  });

  it('accepts differences within 5% (or 1 KiB) without notes', () => {
    const est = profile([point(0, 'a', 'Conv', 100_000), point(1, 'b', 'Conv', 200)]);
    const c = compareRun(est, result(session([m('a', 'Conv', 100_000, 104_000, 104_000), m('b', 'Conv', 200, 1200, 1200)], 104_000)));
    assert.deepEqual(c.nodes.map((n) => [n.notes, n.verdict]), [[[], 'within-target'], [[], 'within-target']]);
    assert.equal(c.peak.withinTarget, true);
    assert.equal(c.peak.differencePct, (4000 / 104_000) * 100);
    assert.match(c.summary[0], /estimate 3\.8% below measured: within 5%$/);
  });

  it('observes nodes ORT ran in another order without booking their difference', () => {
    const est = profile([point(0, 'a', 'Conv', 100_000), point(1, 'b', 'Conv', 200_000), point(2, 'c', 'Add', 300_000)]);
    const run = result(session([m('b', 'Conv', 100_000, 100_000, 100_000), m('a', 'Conv', 100_000, 200_000, 100_000), m('c', 'Add', 100_000, 300_000, 100_000)], 300_000));
    const c = compareRun(est, run);
    assert.deepEqual(c.nodes.map((n) => [n.node, n.verdict, n.unexplainedBytes, n.notes.map((x) => [x.kind, x.bytes])]), [
      ['a', 'not-explained', 100_000, [['no-simulation', 0], ['execution-order', 0]]],
      ['b', 'not-explained', -100_000, [['no-simulation', 0], ['execution-order', 0]]],
      ['c', 'within-target', 0, []],
    ]);
  });

  it('notes Constant nodes that have no kernel; nodes ORT added are not estimated, never explained', () => {
    const est = profile([point(0, 'c', 'Constant', 8), point(1, 'a', 'Add', 16)]);
    const c = compareRun(est, result(session([m('a', 'Add', 8, 16, 8), m('copy', 'MemcpyToHost', 8, 24, 8)], 24)));
    assert.equal(c.nodes[0].notes[0].kind, 'folded');
    assert.equal(c.nodes[0].verdict, 'not-measured');
    assert.match(c.nodes[0].notes[0].detail, /Constant became an initializer/);
    assert.deepEqual(c.nodes.map((n) => n.node), ['c', 'a', 'copy']);
    assert.equal(c.nodes[2].notes[0].kind, 'not-estimated');
    assert.equal(c.nodes[2].verdict, 'not-estimated');
    assert.equal(c.nodes[2].explained, false);
    assert.equal(c.nodes[2].unexplainedBytes, 24);
    assert.match(c.summary.join('\n'), /1 node\(s\) ran in ONNX Runtime but are not estimated: copy/);
  });

  it('books no arena rounding it did not compute: the measured chunks alone are not a note', () => {
    const est = profile([point(0, 'a', 'Add', 100_000)]);
    const run = result(session([m('a', 'Add', 100_000, 131_072, 131_072, { requestedInUseBytes: 100_000, inUsePeakBytes: 131_072 })], 131_072));
    const c = compareRun(est, run);
    assert.deepEqual(c.peak.notes.map((n) => [n.kind, n.bytes]), [['no-simulation', 0]]);
    assert.equal(c.peak.explained, false);
    assert.equal(c.peak.unexplainedBytes, 31_072);
    assert.equal(c.nodes[0].verdict, 'within-target');
  });

  it('compares RSS growth with weights and activations when there are no arena figures', () => {
    const est = profile([point(0, 'a', 'Add', 1000)]);
    const c = compareRun(est, result(session([m('a', 'Add', 1000, null, null)], 5000, 'rss-delta')));
    assert.equal(c.peak.estimatedBytes, W + 1000);
    assert.equal(c.nodes[0].measuredBytes, null);
    assert.equal(c.nodes[0].verdict, 'not-measured');
    assert.equal(c.peak.verdict, 'not-explained');
  });

  it('finds fused nodes and prepacked weights in the optimised session', () => {
    const est = profile([point(0, 'mm', 'MatMul', 400), point(1, 'add', 'Add', 800)]);
    const attribution = session([m('mm', 'MatMul', 400, 400, 400, { parameterBytes: 4000 }), m('add', 'Add', 400, 800, 400, { parameterBytes: 40 })], 800);
    const optimised = { ...session([m('fused mm/MatMulAddFusion', 'FusedGemm', 400, 4400, 400, { parameterBytes: 40 })], 4400), level: 'all' as const };
    const c = compareRun(est, result(attribution, optimised));
    const o = c.optimised!;
    assert.deepEqual(o.fused, [{ node: 'mm', into: 'fused mm/MatMulAddFusion' }, { node: 'add', into: null }]);
    assert.equal(o.prepackedBytes, 4000);
    assert.equal(o.peakChangePct, 450);
    assert.match(c.summary.join('\n'), /optimised session: peak 4\.3 KiB, 450\.0% above the attribution session's/);
    assert.equal(o.estimate, null);
  });

  it('says a peak many times the attribution session\'s in bytes and as a multiple, not in thousands of percent', () => {
    const est = profile([point(0, 'mm', 'MatMul', 400)]);
    const attribution = session([m('mm', 'MatMul', 400, 1536, 400, { parameterBytes: 1_000_000 })], 1536);
    const optimised = { ...session([m('mm', 'MatMul', 400, 1_230_336, 400, { parameterBytes: 0 })], 1_230_336), level: 'all' as const };
    const c = compareRun(est, result(attribution, optimised));
    assert.ok(c.optimised!.peakChangePct > 1000);
    assert.match(c.summary.join('\n'), /optimised session: peak 1\.2 MiB, 1\.2 MiB above the attribution session's 1\.5 KiB \(801x\);/);
  });

  it('compares the optimised estimate with the optimised peak, not with the attribution session', () => {
    const est = profile([point(0, 'mm', 'MatMul', 400)]);
    const attribution = session([m('mm', 'MatMul', 400, 400, 400, { parameterBytes: 4000 })], 800);
    const optimised = { ...session([m('mm', 'MatMul', 400, 4400, 400, { parameterBytes: 0 })], 4400), level: 'all' as const };
    for (const [estimated, within] of [[4400, true], [800, false]] as const) {
      est.ortOptimised = { ...held(400, estimated, []), prepackedBytes: 4096 };
      const e = compareRun(est, result(attribution, optimised)).optimised!.estimate!;
      assert.deepEqual([e.estimatedBytes, e.measuredBytes, e.withinTarget], [estimated, 4400, within]);
      assert.deepEqual([e.estimatedPrepackedBytes, e.measuredPrepackedBytes], [4096, 4000]);
    }
    const lines = compareRun(est, result(attribution, optimised)).summary.join('\n');
    assert.match(lines, /estimate of the optimised session .*: 800 B vs measured 4\.3 KiB, estimate 81\.8% below measured: not within 5%: 3\.5 KiB not explained/);
  });
});
