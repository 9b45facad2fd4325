// ONNX Runtime uses stored tensors of more than 127 bytes in place and copies smaller ones into its
// arena (kSmallTensorExternalDataThreshold): a real session's requested bytes show both, and the
// estimate counts the small ones with the arena and the rest beside it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AttributeValue, DType, GraphNode, Initializer, Model } from '../../../extension/engine/graph';
import { analyzeModel } from '../../../extension/engine/analyze';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { encodeValues } from '../../../extension/engine/onnx/raw-data';
import { withDefaults } from '../../../extension/engine/settings';
import { compareRun } from '../../../extension/runner/compare';
import { runModel } from '../../../extension/runner/run';

const t = (name: string, dtype: DType, dims: number[], values: number[]): Initializer => ({ name, dtype, dims, raw: encodeValues(dtype, values), external: false });
const node = (name: string, opType: string, inputs: string[], outputs: string[], attributes: Record<string, AttributeValue> = {}): GraphNode =>
  ({ name, opType, domain: '', inputs, outputs, attributes, metadata: {} });
const constant = (v: Initializer) => node(`c_${v.name}`, 'Constant', [], [v.name], { value: { kind: 'tensor', value: v } });
const toFloat = (name: string, x: string, y: string) => node(name, 'Cast', [x], [y], { to: { kind: 'int', value: 1 } });
const range = (n: number) => Array.from({ length: n }, (_, i) => i % 100);

function storedModel(): Model {
  const f32 = (name: string, n: number) => ({ name, dtype: 'float32' as const, shape: [n] });
  return {
    irVersion: 8, producer: 'memlens-test', opsets: { '': 17 }, metadata: {},
    graph: {
      name: 'stored',
      nodes: [
        constant(t('b15', 'int64', [15], range(15))), // 120 B: copied into the arena
        constant(t('b16', 'int64', [16], range(16))), // 128 B: used in place
        constant(t('qi', 'int8', [1000], range(1000))), // 1000 B: used in place
        toFloat('c15', 'b15', 'o15'),
        node('add15', 'Add', ['o15', 'fj'], ['a15']),
        toFloat('c16', 'b16', 'o16'),
        toFloat('cq', 'qi', 'q'),
        node('addx', 'Add', ['x', 'fi'], ['ax']),
      ],
      inputs: [f32('x', 1000)],
      outputs: [f32('a15', 15), f32('o16', 16), f32('q', 1000), f32('ax', 1000)],
      initializers: new Map([['fi', t('fi', 'float32', [1000], range(1000))], ['fj', t('fj', 'float32', [15], range(15))]]), // 4000 B, 60 B
      valueInfo: new Map(),
    },
  };
}

describe('stored tensors of at most 127 bytes are in ONNX Runtime\'s arena', async () => {
  const model = storedModel();
  const estimate = analyzeModel(model, withDefaults({ batch: 1 }), { source: 'stored', entry: null });
  const run = await runModel({ model: { bytes: encodeModel(model), name: 'stored' }, ep: 'cpu', runs: 1, optimised: false }, { timeoutMs: 60_000 });

  it('measures the 180 small bytes (b15 120 + fj 60) as requested before any output exists', () => {
    const first = run.attribution.nodes[0];
    assert.equal(first.requestedInUseBytes! - first.outputBytes, 120 + 60);
  });

  it('estimates every node\'s requested bytes exactly: small stored tensors with the arena, the rest beside it', () => {
    const c = compareRun(estimate, run);
    const measured = c.nodes.filter((n) => n.measuredBytes !== null);
    assert.equal(measured.length, 5);
    assert.deepEqual(measured.filter((n) => n.differenceBytes !== 0).map((n) => [n.node, n.differenceBytes]), []);
    assert.equal(estimate.totals.weightBytes, 120 + 128 + 1000 + 4000 + 60);
  });
});
