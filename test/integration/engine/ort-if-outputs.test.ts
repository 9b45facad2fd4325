// If outputs and branch kernels in the simulation of what ONNX Runtime holds (engine/ort/held.ts)
// against a real onnxruntime-node session: an output whose branch states a symbolic dim is
// allocated by the branch when it is produced (if.cc, AllocationType::Delayed), one with a full
// static shape before the branch runs; a branch Conv reading a main-graph weight takes its
// im2col scratch.
import { describe, it } from 'node:test';
import type { Dim, Graph, GraphNode, Model } from '../../../extension/engine/graph';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { expectHeldAsOrt } from './held-against-ort';

const node = (name: string, opType: string, inputs: string[], outputs: string[], attributes: GraphNode['attributes'] = {}): GraphNode =>
  ({ name, opType, domain: '', inputs, outputs, attributes, metadata: {} });

const X: Dim[] = ['batch', 8, 32, 32];

/** then: Neg(Conv(Relu(x), w)) with w a main-graph initializer; else: Neg(x). Branch outputs state `outShape`. */
function ifModel(outShape: Dim[]): Model {
  const branch = (name: string, nodes: GraphNode[], output: string): Graph =>
    ({ name, inputs: [], outputs: [{ name: output, dtype: 'float32', shape: outShape }], initializers: new Map(), nodes, valueInfo: new Map() });
  const thenBranch = branch('then', [
    node('t_relu', 'Relu', ['x'], ['ta']),
    node('t_conv', 'Conv', ['ta', 'w'], ['tb'], { pads: { kind: 'ints', value: [1, 1, 1, 1] }, kernel_shape: { kind: 'ints', value: [3, 3] } }),
    node('t_neg', 'Neg', ['tb'], ['t_out']),
  ], 't_out');
  const elseBranch = branch('else', [node('e_neg', 'Neg', ['x'], ['e_out'])], 'e_out');
  return {
    irVersion: 8, producer: 'memlens-test', opsets: { '': 17 }, metadata: {},
    graph: {
      name: 'if-outputs',
      inputs: [{ name: 'x', dtype: 'float32', shape: X }],
      outputs: [{ name: 'y', dtype: 'float32', shape: X }],
      initializers: new Map([
        ['c', { name: 'c', dtype: 'bool', dims: [], external: false, raw: new Uint8Array([1]) }],
        ['w', { name: 'w', dtype: 'float32', dims: [8, 8, 3, 3], external: false }],
      ]),
      nodes: [
        node('if', 'If', ['c'], ['branch_out'], { then_branch: { kind: 'graph', value: thenBranch }, else_branch: { kind: 'graph', value: elseBranch } }),
        node('post', 'Neg', ['branch_out'], ['y']),
      ],
      valueInfo: new Map(),
    },
  };
}

/**
 * then: Neg(Sqrt(Reshape(Relu(x), Shape(x)))) with x's first dim symbolic: at load time the
 * Reshape's shape is unknown, so ORT's plan for the branch does not let Sqrt write in place.
 */
function symbolicBranchModel(): Model {
  const shape: Dim[] = ['n', 64, 1024];
  const branch = (name: string, nodes: GraphNode[], output: string): Graph =>
    ({ name, inputs: [], outputs: [{ name: output, dtype: 'float32', shape }], initializers: new Map(), nodes, valueInfo: new Map() });
  const thenBranch = branch('then', [
    node('t_relu', 'Relu', ['x'], ['ta']), node('t_shape', 'Shape', ['x'], ['ts']),
    node('t_reshape', 'Reshape', ['ta', 'ts'], ['tb']), node('t_sqrt', 'Sqrt', ['tb'], ['tc']), node('t_neg', 'Neg', ['tc'], ['t_out']),
  ], 't_out');
  const elseBranch = branch('else', [node('e_neg', 'Neg', ['x'], ['e_out'])], 'e_out');
  return {
    irVersion: 8, producer: 'memlens-test', opsets: { '': 17 }, metadata: {},
    graph: {
      name: 'if-symbolic', inputs: [{ name: 'x', dtype: 'float32', shape }], outputs: [{ name: 'y', dtype: 'float32', shape }],
      initializers: new Map([['c', { name: 'c', dtype: 'bool', dims: [], external: false, raw: new Uint8Array([1]) }]]),
      nodes: [
        node('if', 'If', ['c'], ['branch_out'], { then_branch: { kind: 'graph', value: thenBranch }, else_branch: { kind: 'graph', value: elseBranch } }),
        node('post', 'Neg', ['branch_out'], ['y']),
      ],
      valueInfo: new Map(),
    },
  };
}

describe('If outputs and branch scratch, against a real session', () => {
  it('a branch is planned from the shapes ORT infers at load time (no in-place write on a data-dependent shape)', async () => {
    await expectHeldAsOrt(encodeModel(symbolicBranchModel()), 'if-symbolic.onnx', 7);
  });
  it('a branch output with a symbolic dim is allocated when the branch produces it', async () => {
    await expectHeldAsOrt(encodeModel(ifModel(['batch', 8, 32, 32])), 'if-delayed.onnx', 5);
  });
  it('a branch output with a static shape is allocated before the branch runs', async () => {
    await expectHeldAsOrt(encodeModel(ifModel([1, 8, 32, 32])), 'if-static.onnx', 5);
  });
});
