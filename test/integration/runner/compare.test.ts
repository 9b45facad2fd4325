// Estimate (the engine's analyzeModel) beside a real run, joined by node name.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { decodeModel } from '../../../extension/engine/onnx/decode';
import { analyzeModel } from '../../../extension/engine/analyze';
import { withDefaults } from '../../../extension/engine/settings';
import { compareRun } from '../../../extension/runner/compare';
import { toMeasured } from '../../../extension/runner/measured';
import { runModel } from '../../../extension/runner/run';
import { chainModel, encode, mlpModel } from './models';
import { localOrtSession } from '../../../extension/analysis/local-ort-session';

/** The session the runner measures: its intra-op threads (ORT's default, one per core) and two runs. */
const SESSION = localOrtSession(2);

describe('compareRun on the chain model (batch 64, h 256)', async () => {
  const model = chainModel(256);
  const estimate = analyzeModel(model, withDefaults({ batch: 64 }), { source: 'model.ts', entry: null });
  const run = await runModel({ model: { bytes: encode(model), name: 'chain' }, ep: 'cpu', settings: { batch: 64 }, runs: 2 }, { timeoutMs: 60_000 });
  const c = compareRun(estimate, run);
  const T = 64 * 256 * 4;

  it('explains every node with optimisations disabled: the ideal plan, and ORT\'s plan where they differ', () => {
    // The ideal plan (a lower bound) writes Add over its dying input; ORT's Add kernel declares no
    // in-place output, so ORT holds both, and the simulated plan's note is that difference.
    assert.deepEqual(c.nodes.map((n) => [n.node, n.estimatedBytes, n.measuredBytes, n.explained]), [
      ['matmul', T, T, true], ['add', T, 2 * T, true], ['relu', T, T, true], ['softmax', 2 * T, 2 * T, true],
    ]);
    assert.deepEqual(c.nodes.map((n) => [n.node, n.notes.map((x) => [x.kind, x.bytes])]), [
      ['matmul', []], ['add', [['planner', T]]], ['relu', []], ['softmax', []],
    ]);
  });

  it('joins per source line: bytes each line produces, estimated and measured', () => {
    const byLine = [...c.lines].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    assert.deepEqual(byLine.map((l) => [l.line, l.estimatedBytes, l.measuredOutputBytes, l.unmeasured]), [
      [10, T, T, []], [11, T, T, []], [12, T, T, []], [13, T, T, []],
    ]);
    assert.ok(c.lines.every((l) => l.durationUs > 0));
  });

  it('puts the peaks within 5%', () => {
    assert.equal(c.peak.estimatedBytes, 2 * T);
    assert.equal(c.peak.measuredBytes, 2 * T);
    assert.equal(c.peak.differencePct, 0);
    assert.equal(c.peak.withinTarget, true);
    assert.match(c.summary[0], /^peak on cpu \(optimisations disabled\): estimated 128\.0 KiB, measured 128\.0 KiB \(arena-peak\), estimate equal to measured: within 5%$/);
  });

  it('explains the optimised session: fusion and prepacked weights', () => {
    const o = c.optimised!;
    const fused = o.fused.map((f) => f.node);
    assert.ok(fused.includes('add') && fused.includes('matmul'), fused.join(', '));
    assert.equal(o.fused.find((f) => f.node === 'matmul')!.into, 'fused matmul/MatMulAddFusion');
    assert.equal(o.prepackedBytes, 256 * 256 * 4);
    assert.ok(o.notes.some((n) => n.kind === 'prepacked-weights' && n.bytes === 256 * 256 * 4));
    // The optimised arena holds the packed weight copy beside the activations.
    assert.ok(o.peakBytes >= 256 * 256 * 4 + T, `optimised peak ${o.peakBytes}`);
  });

  it('fills the profile measured field with per-node figures and source lines', () => {
    const m = toMeasured(run, estimate);
    assert.equal(m.ep, 'cpu');
    assert.equal(m.peakBytes, 2 * T);
    assert.equal(m.peakSource, 'arena-peak');
    assert.equal(m.level, 'disabled');
    assert.deepEqual(m.perNode.map((n) => [n.node, n.op, n.outputBytes, n.inUseBytes, n.source]), [
      ['matmul', 'MatMul', T, T, { file: 'model.ts', line: 10 }],
      ['add', 'Add', T, 2 * T, { file: 'model.ts', line: 11 }],
      ['relu', 'Relu', T, T, { file: 'model.ts', line: 12 }],
      ['softmax', 'Softmax', T, 2 * T, { file: 'model.ts', line: 13 }],
    ]);
    assert.equal(m.optimised?.level, 'all');
    assert.equal(m.weightBytes, 256 * 256 * 4 + 256 * 4);
    assert.equal(m.inputBytes, T);
    assert.deepEqual((JSON.parse(JSON.stringify(m)) as typeof m).perNode.length, 4);
  });
});

describe('compareRun on a 4-layer MLP (batch 8, h 128)', async () => {
  const model = mlpModel(4, 128);
  const estimate = analyzeModel(model, withDefaults({ batch: 8 }), { source: 'mlp', entry: null, ortSession: SESSION });
  const run = await runModel({ model: { bytes: encode(model), name: 'mlp' }, ep: 'cpu', settings: { batch: 8 }, runs: 2, optimised: false }, { timeoutMs: 60_000 });
  const c = compareRun(estimate, run);

  it('explains the node where ORT keeps a freed buffer for the next layer by the simulated plan, byte for byte', () => {
    const T = 8 * 128 * 4;
    const relu0 = c.nodes.find((n) => n.node === 'layer0.relu')!;
    assert.equal(relu0.estimatedBytes, T);
    assert.equal(relu0.measuredBytes, 2 * T);
    assert.equal(relu0.verdict, 'explained');
    assert.deepEqual(relu0.notes.filter((n) => n.bytes !== 0).map((n) => [n.kind, n.bytes]), [['planner', T]]);
    assert.equal(relu0.unexplainedBytes, 0);
  });

  it('reports a simulation that disagrees as not explained: the same run against the ideal plan alone', () => {
    const ideal = compareRun({ ...estimate, ortHeld: undefined }, run);
    const relu0 = ideal.nodes.find((n) => n.node === 'layer0.relu')!;
    assert.equal(relu0.verdict, 'not-explained');
    assert.equal(relu0.unexplainedBytes, 8 * 128 * 4);
  });
});

describe('compareRun on resnet18 (torchvision, exported by torch 1.13)', async () => {
  const file = path.join(__dirname, '../../../../test/fixtures/models/resnet18.onnx');
  const model = decodeModel(fs.readFileSync(file), file);
  const estimate = analyzeModel(model, withDefaults({ batch: 1 }), { source: file, entry: null, ortSession: SESSION });
  const run = await runModel({ model: { path: file }, ep: 'cpu', settings: { batch: 1 }, runs: 2, optimised: false }, { timeoutMs: 120_000 });
  const c = compareRun(estimate, run);

  it('measures the first convolution output as 1x64x112x112 float32', () => {
    assert.equal(run.attribution.nodes[0].node, '/conv1/Conv');
    assert.equal(run.attribution.nodes[0].outputBytes, 64 * 112 * 112 * 4);
  });

  it('follows the ORT order; every node is within 5% or explained by the simulated plan, notes computed from it', () => {
    const kinds = new Set(c.nodes.flatMap((n) => n.notes.map((x) => x.kind)));
    // The engine schedules as ORT does (the downsample branch before the block's first
    // convolution), so no node is out of order.
    assert.equal(kinds.has('execution-order'), false);
    const names = run.attribution.nodes.map((n) => n.node);
    assert.ok(names.indexOf('/layer2/layer2.0/downsample/downsample.0/Conv') < names.indexOf('/layer2/layer2.0/conv1/Conv'));
    const simulated = new Map(estimate.ortHeld!.perNode.map((n) => [n.node, n.requestedInUseBytes]));
    for (const n of c.nodes) {
      assert.ok(n.verdict === 'within-target' || n.verdict === 'explained', `${n.node}: ${n.verdict}`);
      const planner = n.notes.find((x) => x.kind === 'planner');
      if (planner) assert.equal(planner.bytes, simulated.get(n.node)! - n.estimatedBytes!, n.node);
    }
  });

  it('books the arena rounding it computed: planner and chunk bytes from the simulation bring the peak within 5%', () => {
    const held = estimate.ortHeld!;
    const booked = c.peak.notes.reduce((sum, n) => sum + n.bytes, 0);
    assert.equal(c.peak.estimatedBytes + booked, held.arenaInUsePeakBytes);
    assert.ok(c.peak.withinTarget || c.peak.explained, c.summary.join('\n'));
    assert.ok(Math.abs(held.arenaInUsePeakBytes - c.peak.measuredBytes) <= 0.05 * c.peak.measuredBytes, `simulated ${held.arenaInUsePeakBytes}, measured ${c.peak.measuredBytes}`);
  });
});
