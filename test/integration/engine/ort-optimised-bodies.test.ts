// The default-optimised session on small generated graphs, estimated from the graph ONNX Runtime
// writes for it, against a real onnxruntime-node session: an If branch's own memory pattern, and
// the FusedMatMul ORT's MatmulTransposeFusion writes for attention's batch-moving Transposes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeModel } from '../../../extension/engine/analyze';
import type { Graph, GraphNode, Model } from '../../../extension/engine/graph';
import { decodeModel } from '../../../extension/engine/onnx/decode';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import type { OrtHeldFigures } from '../../../extension/engine/ort/held-figures';
import { withDefaults } from '../../../extension/engine/settings';
import { optimisedGraph } from '../../../extension/runner/optimised-graph';
import { runModel } from '../../../extension/runner/run';

const RUNS = 2;
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-optimised-bodies-'));

function held(file: string): OrtHeldFigures {
  const profile = analyzeModel(decodeModel(fs.readFileSync(file), file), withDefaults({}), {
    source: file, entry: null, ortSession: { intraOpThreads: os.availableParallelism(), runs: RUNS, optimised: true },
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
