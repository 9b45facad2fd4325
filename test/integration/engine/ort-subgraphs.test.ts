// Control-flow bodies in the simulation of what ONNX Runtime holds (engine/ort/held.ts) against a
// real onnxruntime-node session: an If runs its branch with the branch's own allocation plan in
// the same arena, after allocating its own outputs (if.cc).
import { describe, it } from 'node:test';
import type { Model } from '../../../extension/engine/graph';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { boolScalar, f32, gatedModel, graph, ifNode, model, node, wideAndNarrowBranches } from '../../fixtures/subgraphs';
import { expectHeldAsOrt } from './held-against-ort';

/**
 * y = Neg(If(c, then: Neg(Add(Relu(x), Sigmoid(Relu(x)))), else: Neg(Exp(x)))), with c an initializer:
 * the then branch holds three intermediates at once, the else branch one.
 */
function ifModel(cond: boolean): Model {
  return gatedModel('if', f32('x'), cond, wideAndNarrowBranches());
}

/**
 * x1 = Relu(x) is read by `mid` and, as an outer-scope value, by the If's branch: ORT's planner
 * counts it as the If's implicit input and keeps it until the If has run.
 */
function implicitInputModel(): Model {
  // The branch also reads z, so the If runs after mid, x1's last explicit reader.
  const thenBranch = graph('then', {
    outputs: [f32('t_out')],
    nodes: [node('t_sig', 'Sigmoid', ['x1'], ['ta']), node('t_add', 'Add', ['ta', 'z'], ['tb']), node('t_neg', 'Neg', ['tb'], ['t_out'])],
  });
  const elseBranch = graph('else', { outputs: [f32('e_out')], nodes: [node('e_neg', 'Neg', ['x1'], ['e_out'])] });
  return model(graph('if-implicit', {
    inputs: [f32('x')],
    outputs: [f32('y'), f32('z')],
    initializers: [boolScalar('c', true)],
    nodes: [node('pre', 'Relu', ['x'], ['x1']), node('mid', 'Exp', ['x1'], ['z']), ifNode('if', 'c', ['y'], thenBranch, elseBranch)],
  }));
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
