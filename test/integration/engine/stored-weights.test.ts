// Weights are every tensor the file stores (initializers and Constant values, in If bodies too),
// checked against the onnx package's own count of the encoded file; params count stored
// parameters of every numeric dtype but not fills (zero initial states) or int64 shape data.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AttributeValue, DType, Graph, GraphNode, Initializer, Model } from '../../../extension/engine/graph';
import { analyzeModel } from '../../../extension/engine/analyze';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { encodeValues } from '../../../extension/engine/onnx/raw-data';
import { withDefaults } from '../../../extension/engine/settings';

function tensor(name: string, dtype: DType, dims: number[], values: number[]): Initializer {
  return { name, dtype, dims, raw: encodeValues(dtype, values), external: false };
}

function node(name: string, opType: string, inputs: string[], outputs: string[], attributes: Record<string, AttributeValue> = {}): GraphNode {
  return { name, opType, domain: '', inputs, outputs, attributes, metadata: {} };
}

function constant(name: string, t: Initializer): GraphNode {
  return node(name, 'Constant', [], [t.name], { value: { kind: 'tensor', value: t } });
}

function body(name: string, nodes: GraphNode[], initializers: Initializer[], output: string): Graph {
  return {
    name, nodes, inputs: [], outputs: [{ name: output, dtype: 'float32', shape: [4] }],
    initializers: new Map(initializers.map((t) => [t.name, t])), valueInfo: new Map(),
  };
}

const ramp = (n: number) => Array.from({ length: n }, (_, i) => (i + 1) / 8);

function gatedModel(): Model {
  const thenBranch = body('then', [constant('tc', tensor('tb2', 'float32', [4], ramp(4))), node('tadd', 'Add', ['tb', 'tb2'], ['tout'])],
    [tensor('tb', 'float32', [4], ramp(4))], 'tout');
  const elseBranch = body('else', [constant('ec', tensor('ev', 'float32', [4], ramp(4))), node('eid', 'Identity', ['ev'], ['eout'])], [], 'eout');
  const graph: Graph = {
    name: 'gated',
    nodes: [
      constant('qw', tensor('qw', 'int8', [8], [1, 2, 3, 4, 5, 6, 7, 8])),
      constant('h0', tensor('h0', 'float32', [2, 4], new Array<number>(8).fill(0))),
      constant('shape', tensor('shp', 'int64', [2], [2, 4])),
      node('mm', 'MatMul', ['x', 'W'], ['a']),
      node('add', 'Add', ['a', 'h0'], ['b']),
      node('reshape', 'Reshape', ['b', 'shp'], ['c']),
      node('dq', 'Cast', ['qw'], ['qf'], { to: { kind: 'int', value: 1 } }),
      node('if', 'If', ['cond'], ['y'], { then_branch: { kind: 'graph', value: thenBranch }, else_branch: { kind: 'graph', value: elseBranch } }),
    ],
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 4] }, { name: 'cond', dtype: 'bool', shape: [] }],
    outputs: [{ name: 'c', dtype: 'float32', shape: [2, 4] }, { name: 'qf', dtype: 'float32', shape: [8] }, { name: 'y', dtype: 'float32', shape: [4] }],
    initializers: new Map([['W', tensor('W', 'float32', [4, 4], ramp(16))]]),
    valueInfo: new Map(),
  };
  return { irVersion: 8, producer: 'memlens-test', opsets: { '': 17 }, metadata: {}, graph };
}

/** The onnx package's count: initializer and Constant `value` bytes, recursively through subgraphs. */
const ONNX_COUNT = `
import onnx, sys
from onnx import numpy_helper as nh
def count(g):
    n = sum(int(nh.to_array(t).nbytes) for t in g.initializer)
    for node in g.node:
        for a in node.attribute:
            if node.op_type == "Constant" and a.name == "value": n += int(nh.to_array(a.t).nbytes)
            if a.type == onnx.AttributeProto.GRAPH: n += count(a.g)
            for s in a.graphs: n += count(s)
    return n
m = onnx.load(sys.argv[1]); onnx.checker.check_model(m); print(count(m.graph))
`;

describe('stored weights and parameters of a model with an If and Constant weights', () => {
  const model = gatedModel();
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-weights-')), 'gated.onnx');
  fs.writeFileSync(file, encodeModel(model));
  const infer = analyzeModel(model, withDefaults({ batch: 1 }), { source: file, entry: null });

  it('counts the weight bytes the onnx package counts, both If branches included', () => {
    const reference = Number(execFileSync('/usr/bin/python3', ['-c', ONNX_COUNT, file], { encoding: 'utf8' }).trim());
    // By hand: W 64 + qw 8 + h0 32 + shp 16 + then (tb 16 + tb2 16) + else (ev 16) = 168.
    assert.equal(reference, 168);
    assert.equal(infer.totals.weightBytes, reference);
  });

  it('counts int8 stored parameters and body weights, not the zero state or the int64 shape', () => {
    // W 16 + qw 8 + tb 4 + tb2 4 + ev 4.
    assert.equal(infer.params, 36);
  });

  it('gives gradients only to float main-graph parameters in training: not the zero state', () => {
    const train = analyzeModel(model, withDefaults({ batch: 1, mode: 'train', optimizer: 'adamw' }), { source: file, entry: null });
    assert.equal(train.trainableParams, 16);
    assert.equal(train.totals.gradientBytes >= 64, true);
    assert.equal(train.totals.optimizerStateBytes, 2 * 64);
  });
});
