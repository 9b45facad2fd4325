// Control-flow bodies in the simulation of what ONNX Runtime holds (engine/ort/held.ts) against a
// real onnxruntime-node session: an If runs its branch with the branch's own allocation plan in
// the same arena, after allocating its own outputs (if.cc).
import { describe, it } from 'node:test';
import type { Graph, GraphNode, Model } from '../../../extension/engine/graph';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { expectHeldAsOrt } from './held-against-ort';

const SHAPE = [1, 64, 1024]; // 256 KiB of float32: every tensor is its own arena request

const node = (name: string, opType: string, inputs: string[], outputs: string[], attributes: GraphNode['attributes'] = {}): GraphNode =>
  ({ name, opType, domain: '', inputs, outputs, attributes, metadata: {} });

const branch = (name: string, nodes: GraphNode[], output: string): Graph =>
  ({ name, inputs: [], outputs: [{ name: output, dtype: 'float32', shape: SHAPE }], initializers: new Map(), nodes, valueInfo: new Map() });

/**
 * y = Neg(If(c, then: Neg(Add(Relu(x), Sigmoid(Relu(x)))), else: Neg(Exp(x)))), with c an initializer:
 * the then branch holds three intermediates at once, the else branch one.
 */
function ifModel(cond: boolean): Model {
  const thenBranch = branch('then', [
    node('t_relu', 'Relu', ['x'], ['ta']), node('t_sig', 'Sigmoid', ['ta'], ['tb']),
    node('t_add', 'Add', ['ta', 'tb'], ['tc']), node('t_neg', 'Neg', ['tc'], ['t_out']),
  ], 't_out');
  const elseBranch = branch('else', [node('e_exp', 'Exp', ['x'], ['ea']), node('e_neg', 'Neg', ['ea'], ['e_out'])], 'e_out');
  return {
    irVersion: 8, producer: 'memlens-test', opsets: { '': 17 }, metadata: {},
    graph: {
      name: 'if',
      inputs: [{ name: 'x', dtype: 'float32', shape: SHAPE }],
      outputs: [{ name: 'y', dtype: 'float32', shape: SHAPE }],
      initializers: new Map([['c', { name: 'c', dtype: 'bool', dims: [], external: false, raw: new Uint8Array([cond ? 1 : 0]) }]]),
      nodes: [
        node('if', 'If', ['c'], ['branch_out'], { then_branch: { kind: 'graph', value: thenBranch }, else_branch: { kind: 'graph', value: elseBranch } }),
        node('post', 'Neg', ['branch_out'], ['y']),
      ],
      valueInfo: new Map(),
    },
  };
}

/**
 * x1 = Relu(x) is read by `mid` and, as an outer-scope value, by the If's branch: ORT's planner
 * counts it as the If's implicit input and keeps it until the If has run.
 */
function implicitInputModel(): Model {
  // The branch also reads z, so the If runs after mid, x1's last explicit reader.
  const thenBranch = branch('then', [
    node('t_sig', 'Sigmoid', ['x1'], ['ta']), node('t_add', 'Add', ['ta', 'z'], ['tb']), node('t_neg', 'Neg', ['tb'], ['t_out']),
  ], 't_out');
  const elseBranch = branch('else', [node('e_neg', 'Neg', ['x1'], ['e_out'])], 'e_out');
  return {
    irVersion: 8, producer: 'memlens-test', opsets: { '': 17 }, metadata: {},
    graph: {
      name: 'if-implicit',
      inputs: [{ name: 'x', dtype: 'float32', shape: SHAPE }],
      outputs: [{ name: 'y', dtype: 'float32', shape: SHAPE }, { name: 'z', dtype: 'float32', shape: SHAPE }],
      initializers: new Map([['c', { name: 'c', dtype: 'bool', dims: [], external: false, raw: new Uint8Array([1]) }]]),
      nodes: [
        node('pre', 'Relu', ['x'], ['x1']),
        node('mid', 'Exp', ['x1'], ['z']),
        node('if', 'If', ['c'], ['y'], { then_branch: { kind: 'graph', value: thenBranch }, else_branch: { kind: 'graph', value: elseBranch } }),
      ],
      valueInfo: new Map(),
    },
  };
}

describe('If: the branch runs with its own plan in the same arena, against a real session', () => {
  for (const cond of [true, false]) {
    it(`condition ${cond}: the ${cond ? 'then' : 'else'} branch's nodes, node by node`, async () => {
      const bytes = encodeModel(ifModel(cond));
      // Every node ORT ran, the branch's included, has the simulated requested bytes in use.
      await expectHeldAsOrt(bytes, 'if.onnx', cond ? 6 : 4);
    });
  }

  it('an outer value the branch reads stays allocated until the If has run (implicit input)', async () => {
    const bytes = encodeModel(implicitInputModel());
    await expectHeldAsOrt(bytes, 'if.onnx', 6);
  });
});
