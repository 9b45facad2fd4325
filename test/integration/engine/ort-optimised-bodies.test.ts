// The default-optimised session on small generated graphs, estimated from the graph ONNX Runtime
// writes for it, against a real onnxruntime-node session: an If branch's own memory pattern, the
// FusedMatMul ORT's MatmulTransposeFusion writes for attention's batch-moving Transposes, and the
// order of a graph with several NCHWc outputs, which differs between sessions.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeModel } from '../../../extension/engine/analyze';
import type { Graph, GraphNode, Initializer, Model } from '../../../extension/engine/graph';
import { decodeModel } from '../../../extension/engine/onnx/decode';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import type { OrtHeldFigures } from '../../../extension/engine/ort/held-figures';
import { withDefaults } from '../../../extension/engine/settings';
import { optimisedGraph } from '../../../extension/runner/optimised-graph';
import { runModel } from '../../../extension/runner/run';
import { nodesByRun, parseTrace, peakFromNodes } from '../../../extension/runner/profile-events';
import { encodeValues } from '../../../extension/engine/onnx/raw-data';
import * as ort from 'onnxruntime-node';
import { localOrtSession } from '../../../extension/analysis/local-ort-session';

const RUNS = 2;
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-optimised-bodies-'));
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

function held(file: string): OrtHeldFigures {
  const profile = analyzeModel(decodeModel(fs.readFileSync(file), file), withDefaults({}), {
    source: file, entry: null, ortSession: localOrtSession(RUNS, true),
  });
  return profile.ortHeld!;
}

async function measuredOptimised(file: string) {
  const r = await runModel({ model: { path: file }, ep: 'cpu', runs: RUNS }, { timeoutMs: 240_000 });
  assert.ok(r.optimised, 'the runner made no optimised session');
  assert.equal(r.optimised.peakSource, 'arena-peak');
  return r.optimised;
}

const node = (name: string, opType: string, inputs: string[], outputs: string[], attributes: GraphNode['attributes'] = {}, domain = ''): GraphNode =>
  ({ name, opType, domain, inputs, outputs, attributes, metadata: {} });

/**
 * x [64, 256] fp32 (64 KiB): t1 = Exp(x), t2 = Exp(t1), t3 = Concat(t2, t2) [128, 256] (128 KiB),
 * y = Exp(t3). Exp has no MayInplace, so t1, t2, t3 are the branch's own buffers: its pattern puts
 * t1 at 0, t2 at 64 KiB, and t3 (t1 freed: a 64 KiB gap, too small) at 128 KiB, a 256 KiB block,
 * where no more than 192 KiB of them is ever alive.
 */
function branch(name: string): Graph {
  const p = (s: string) => `${name}_${s}`;
  return {
    name, inputs: [], outputs: [{ name: p('y'), dtype: 'float32', shape: [128, 256] }], initializers: new Map(), valueInfo: new Map(),
    nodes: [
      node(p('exp1'), 'Exp', ['x'], [p('t1')]),
      node(p('exp2'), 'Exp', [p('t1')], [p('t2')]),
      node(p('concat'), 'Concat', [p('t2'), p('t2')], [p('t3')], { axis: { kind: 'int', value: 0 } }),
      node(p('exp3'), 'Exp', [p('t3')], [p('y')]),
    ],
  };
}

function ifModel(): Model {
  return {
    irVersion: 8, producer: 'memlens-test', opsets: { '': 17 }, metadata: {},
    graph: {
      name: 'if-pattern',
      inputs: [{ name: 'x', dtype: 'float32', shape: [64, 256] }, { name: 'c', dtype: 'bool', shape: [] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [128, 256] }],
      initializers: new Map(),
      nodes: [node('if', 'If', ['c'], ['y'], { then_branch: { kind: 'graph', value: branch('then') }, else_branch: { kind: 'graph', value: branch('else') } })],
      valueInfo: new Map(),
    },
  };
}

/** Attention's scores: Q, K [197, 6, 64] -> Transpose to [6, 197, 64] and [6, 64, 197] -> MatMul [6, 197, 197] -> Exp. */
function attentionScoresModel(): Model {
  return {
    irVersion: 8, producer: 'memlens-test', opsets: { '': 17 }, metadata: {},
    graph: {
      name: 'scores',
      inputs: [{ name: 'q', dtype: 'float32', shape: [197, 6, 64] }, { name: 'k', dtype: 'float32', shape: [197, 6, 64] }],
      outputs: [{ name: 'e', dtype: 'float32', shape: [6, 197, 197] }],
      initializers: new Map(),
      nodes: [
        node('tq', 'Transpose', ['q'], ['qt'], { perm: { kind: 'ints', value: [1, 0, 2] } }),
        node('tk', 'Transpose', ['k'], ['kt'], { perm: { kind: 'ints', value: [1, 2, 0] } }),
        node('mm', 'MatMul', ['qt', 'kt'], ['s']),
        node('exp', 'Exp', ['s'], ['e']),
      ],
      valueInfo: new Map(),
    },
  };
}

describe('the optimised session on generated graphs, against a real session', () => {
  it('an If branch takes its own memory-pattern block from its second run on', async () => {
    const file = path.join(cacheDir, 'if-pattern.onnx');
    fs.writeFileSync(file, encodeModel(ifModel()));
    const estimate = held((await optimisedGraph(file, { cacheDir, timeoutMs: 120_000 })).path);
    const measured = await measuredOptimised(file);
    assert.equal(estimate.arenaInUsePeakBytes, measured.peakBytes);
    // In the measured (second) run the branch's first node already holds the whole block:
    // the If's output (128 KiB) + the 256 KiB pattern + t1 written into it.
    const first = measured.nodes.find((n) => /exp1$/.test(n.node));
    assert.ok(first, 'ORT reported no event for the branch\'s first node');
    assert.equal(first.requestedInUseBytes, 128 * 1024 + 256 * 1024);
    // The branches are alike; the estimate follows the one shapes take when the condition is unknown.
    assert.equal(estimate.perNode.find((n) => /exp1$/.test(n.node))?.requestedInUseBytes, first.requestedInUseBytes);
  });

  it('FusedMatMul with transBatchA/B and transB is sized as ORT runs it (attention Q K^T)', async () => {
    const file = path.join(cacheDir, 'scores.onnx');
    fs.writeFileSync(file, encodeModel(attentionScoresModel()));
    const graph = await optimisedGraph(file, { cacheDir, timeoutMs: 120_000 });
    const fused = decodeModel(fs.readFileSync(graph.path), graph.path).graph.nodes.find((n) => n.opType === 'FusedMatMul');
    assert.ok(fused, 'ORT fused no FusedMatMul: the check tells nothing');
    assert.equal(fused.attributes.transBatchA?.kind === 'int' && fused.attributes.transBatchA.value, 1);
    const estimate = held(graph.path);
    const measured = await measuredOptimised(file);
    const mm = measured.nodes.find((n) => n.op === 'FusedMatMul');
    assert.equal(mm?.outputBytes, 6 * 197 * 197 * 4);
    assert.equal(estimate.arenaInUsePeakBytes, measured.peakBytes);
    // The scores (931,416 B) sit in the second run's pattern block rounded to kAllocAlignment (256 B):
    // each node's requested bytes in use match.
    for (const n of measured.nodes) assert.equal(estimate.perNode.find((e) => e.node === n.node)?.requestedInUseBytes, n.requestedInUseBytes, n.node);
  });
});

/** A 3 x 3 Conv of c -> m channels with weights of one value (ORT's NCHWc layout takes multiples of 8 channels). */
function conv(name: string, input: string, c: number, m: number, stride = 1): { node: GraphNode; weight: [string, Initializer] } {
  const w: Initializer = { name: `${name}_w`, dtype: 'float32', dims: [m, c, 3, 3], external: false, raw: encodeValues('float32', new Array<number>(m * c * 9).fill(0.01)) };
  const attrs: GraphNode['attributes'] = { pads: { kind: 'ints', value: [1, 1, 1, 1] }, strides: { kind: 'ints', value: [stride, stride] } };
  return { node: node(name, 'Conv', [input, w.name], [name], attrs), weight: [w.name, w] };
}

/** A backbone with four outputs at three scales: the NCHWc transformer gives each its own ReorderOutput. */
function fourOutputModel(): Model {
  const convs = [conv('c1', 'x', 16, 32), conv('c2', 'c1', 32, 32), conv('c3', 'c2', 32, 64, 2), conv('c4', 'c3', 64, 64, 2), conv('c5', 'c1', 32, 16)];
  return {
    irVersion: 8, producer: 'memlens-test', opsets: { '': 17 }, metadata: {},
    graph: {
      name: 'four-outputs',
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 16, 64, 64] }],
      outputs: [['c2', 32, 64], ['c3', 64, 32], ['c4', 64, 16], ['c5', 16, 64]].map(([n, c, hw]) => ({ name: n as string, dtype: 'float32' as const, shape: [1, c as number, hw as number, hw as number] })),
      initializers: new Map(convs.map((c) => c.weight)), nodes: convs.map((c) => c.node), valueInfo: new Map(),
    },
  };
}

/** One optimised session that writes its graph and is profiled over two runs: its written graph and its last run's nodes. */
async function writingSession(file: string, i: number) {
  const prefix = path.join(cacheDir, `written-${i}`);
  const s = await ort.InferenceSession.create(file, {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all', logSeverityLevel: 3, enableProfiling: true, profileFilePrefix: prefix, optimizedModelFilePath: `${prefix}.onnx`,
  });
  const feeds = { x: new ort.Tensor('float32', new Float32Array(16 * 64 * 64).fill(0.5), [1, 16, 64, 64]) };
  await s.run(feeds);
  await s.run(feeds);
  s.endProfiling();
  await s.release();
  const trace = fs.readdirSync(cacheDir).find((f) => f.startsWith(`written-${i}_`) && f.endsWith('.json'))!;
  const runs = nodesByRun(parseTrace(fs.readFileSync(path.join(cacheDir, trace), 'utf8')));
  return { graph: `${prefix}.onnx`, nodes: runs[runs.length - 1].nodes };
}

const scalar = (name: string, v: number): [string, Initializer] => [name, { name, dtype: 'float32', dims: [], external: false, raw: encodeValues('float32', [v]) }];

/** y = Gelu(x + b) written out with Erf, as PyTorch exports it: ORT fuses it into one com.microsoft BiasGelu. */
function biasGeluModel(): Model {
  const b: Initializer = { name: 'b', dtype: 'float32', dims: [1024], external: false, raw: encodeValues('float32', new Array<number>(1024).fill(0.1)) };
  return {
    irVersion: 8, producer: 'memlens-test', opsets: { '': 17 }, metadata: {},
    graph: {
      name: 'bias-gelu',
      inputs: [{ name: 'x', dtype: 'float32', shape: [64, 1024] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [64, 1024] }],
      initializers: new Map([['b', b], scalar('sqrt2', Math.SQRT2), scalar('one', 1), scalar('half', 0.5)]),
      nodes: [
        node('add', 'Add', ['x', 'b'], ['xb']),
        node('div', 'Div', ['xb', 'sqrt2'], ['d']),
        node('erf', 'Erf', ['d'], ['e']),
        node('add1', 'Add', ['e', 'one'], ['e1']),
        node('mul', 'Mul', ['xb', 'e1'], ['m']),
        node('mul_half', 'Mul', ['m', 'half'], ['y']),
      ],
      valueInfo: new Map(),
    },
  };
}

describe('com.microsoft BiasGelu\'s temporary, against a real optimised session', () => {
  it('BiasGelu takes a buffer of its input\'s size while it runs (the peak), beside its output', async () => {
    const file = path.join(cacheDir, 'bias-gelu.onnx');
    fs.writeFileSync(file, encodeModel(biasGeluModel()));
    const graph = await optimisedGraph(file, { cacheDir, timeoutMs: 120_000 });
    const ops = decodeModel(fs.readFileSync(graph.path), graph.path).graph.nodes.map((n) => n.opType);
    assert.deepEqual(ops, ['BiasGelu'], 'ORT did not fuse the pattern into one BiasGelu: the check tells nothing');
    const estimate = held(graph.path);
    const measured = await measuredOptimised(file);
    assert.equal(estimate.scratchPeakBytes, 64 * 1024 * 4);
    assert.equal(estimate.arenaInUsePeakBytes, measured.peakBytes);
  });
});

describe('an optimised graph is run in the order ORT wrote it', () => {
  it('each session\'s own written graph gives that session\'s peak and per-node requested bytes', async () => {
    const file = path.join(cacheDir, 'four-outputs.onnx');
    fs.writeFileSync(file, encodeModel(fourOutputModel()));
    for (let i = 0; i < 3; i++) {
      const { graph, nodes } = await writingSession(file, i);
      const written = decodeModel(fs.readFileSync(graph), graph).graph.nodes;
      assert.ok(written.filter((n) => n.opType === 'ReorderOutput').length >= 2, 'ORT wrote fewer than two ReorderOutputs: the check tells nothing');
      assert.deepEqual(nodes.map((n) => n.node), written.map((n) => n.name), 'the profiled order is the written one');
      const estimate = held(graph);
      assert.equal(estimate.arenaInUsePeakBytes, peakFromNodes(nodes)!.bytes);
      for (const n of nodes) assert.equal(estimate.perNode.find((e) => e.node === n.node)?.requestedInUseBytes, n.requestedInUseBytes, n.node);
    }
  });
});
