// If outputs and branch kernels in the simulation of what ONNX Runtime holds (engine/ort/held.ts)
// against a real onnxruntime-node session: an output whose branch states a symbolic dim is
// allocated by the branch when it is produced (if.cc, AllocationType::Delayed), one with a full
// static shape before the branch runs; a branch Conv reading a main-graph weight takes its
// im2col scratch.
import { describe, it } from 'node:test';
import type { Dim, GraphNode, Model } from '../../../extension/engine/graph';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { ints } from '../../fixtures/graph-builder';
import { f32, gatedModel, graph, node } from '../../fixtures/subgraphs';
import { expectHeldAsOrt } from './held-against-ort';

/** then: `nodes` ending in t_out; else: Neg(x). Both outputs state `outShape`. */
function branches(outShape: Dim[], nodes: GraphNode[]) {
  return {
    then: graph('then', { outputs: [f32('t_out', outShape)], nodes }),
    else: graph('else', { outputs: [f32('e_out', outShape)], nodes: [node('e_neg', 'Neg', ['x'], ['e_out'])] }),
  };
}

/** then: Neg(Conv(Relu(x), w)) with w a main-graph initializer; else: Neg(x). Branch outputs state `outShape`. */
function ifModel(outShape: Dim[]): Model {
  const conv = node('t_conv', 'Conv', ['ta', 'w'], ['tb'], { pads: ints([1, 1, 1, 1]), kernel_shape: ints([3, 3]) });
  const thenNodes = [node('t_relu', 'Relu', ['x'], ['ta']), conv, node('t_neg', 'Neg', ['tb'], ['t_out'])];
  const w = { name: 'w', dtype: 'float32' as const, dims: [8, 8, 3, 3], external: false };
  return gatedModel('if-outputs', f32('x', ['batch', 8, 32, 32]), true, branches(outShape, thenNodes), [w]);
}

/**
 * then: Neg(Sqrt(Reshape(Relu(x), Shape(x)))) with x's first dim symbolic: at load time the
 * Reshape's shape is unknown, so ORT's plan for the branch does not let Sqrt write in place.
 */
function symbolicBranchModel(): Model {
  const shape: Dim[] = ['n', 64, 1024];
  const thenNodes = [
    node('t_relu', 'Relu', ['x'], ['ta']), node('t_shape', 'Shape', ['x'], ['ts']),
    node('t_reshape', 'Reshape', ['ta', 'ts'], ['tb']), node('t_sqrt', 'Sqrt', ['tb'], ['tc']), node('t_neg', 'Neg', ['tc'], ['t_out']),
  ];
  return gatedModel('if-symbolic', f32('x', shape), true, branches(shape, thenNodes));
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
