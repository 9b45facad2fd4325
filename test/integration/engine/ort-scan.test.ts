// Scan (opset 9+) in the simulation of what ONNX Runtime holds (engine/ort/held.ts) against a real
// onnxruntime-node session: the Scan allocates its outputs first, each state gets temporary
// buffers of its size (scan_utils.cc LoopStateVariable: one with two trips, two with more), and
// every trip runs the body with its own plan in the same arena, writing into the Scan's buffers.
import { describe, it } from 'node:test';
import type { Model } from '../../../extension/engine/graph';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { int } from '../../fixtures/graph-builder';
import { ARENA_SHAPE, f32, graph, graphAttr, model, node } from '../../fixtures/subgraphs';
import { expectHeldAsOrt } from './held-against-ort';

/** s_final, ys = Scan(s=Relu(x0), xs): body t = Add(s, x); s' = Relu(t); y = Sigmoid(Exp(t)). */
function scanModel(trips: number): Model {
  const body = graph('body', {
    inputs: [f32('s_in'), f32('x_in')],
    outputs: [f32('s_out'), f32('y_out')],
    nodes: [
      node('b_add', 'Add', ['s_in', 'x_in'], ['t']),
      node('b_relu', 'Relu', ['t'], ['s_out']),
      node('b_exp', 'Exp', ['t'], ['e']),
      node('b_sig', 'Sigmoid', ['e'], ['y_out']),
    ],
  });
  return model(graph('scan', {
    inputs: [f32('x0'), f32('xs', [trips, ...ARENA_SHAPE])],
    outputs: [f32('y'), f32('ys', [trips, ...ARENA_SHAPE])],
    nodes: [
      node('pre', 'Relu', ['x0'], ['s0']),
      node('scan', 'Scan', ['s0', 'xs'], ['s_final', 'ys'], { body: graphAttr(body), num_scan_inputs: int(1) }),
      node('post', 'Neg', ['s_final'], ['y']),
    ],
  }));
}

describe('Scan: state temporaries and each trip in the same arena, against a real session', () => {
  for (const trips of [1, 2, 4]) {
    it(`${trips} trip${trips > 1 ? 's' : ''}: peak, held and every node`, async () => {
      const bytes = encodeModel(scanModel(trips));
      // ORT reports each body node once, with the last trip's figures; the simulation's last entry is that trip.
      await expectHeldAsOrt(bytes, 'scan.onnx', 3 + 4);
    });
  }
});
