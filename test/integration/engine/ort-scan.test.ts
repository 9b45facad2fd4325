// Scan (opset 9+) in the simulation of what ONNX Runtime holds (engine/ort/held.ts) against a real
// onnxruntime-node session: the Scan allocates its outputs first, each state gets temporary
// buffers of its size (scan_utils.cc LoopStateVariable: one with two trips, two with more), and
// every trip runs the body with its own plan in the same arena, writing into the Scan's buffers.
import { describe, it } from 'node:test';
import type { Graph, GraphNode, Model } from '../../../extension/engine/graph';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { expectHeldAsOrt } from './held-against-ort';

const SHAPE = [1, 64, 1024]; // 256 KiB of float32: every tensor is its own arena request

const node = (name: string, opType: string, inputs: string[], outputs: string[], attributes: GraphNode['attributes'] = {}): GraphNode =>
  ({ name, opType, domain: '', inputs, outputs, attributes, metadata: {} });

/** s_final, ys = Scan(s=Relu(x0), xs): body t = Add(s, x); s' = Relu(t); y = Sigmoid(Exp(t)). */
function scanModel(trips: number): Model {
  const f = (name: string, shape: number[] = SHAPE) => ({ name, dtype: 'float32' as const, shape });
  const body: Graph = {
    name: 'body',
    inputs: [f('s_in'), f('x_in')],
    outputs: [f('s_out'), f('y_out')],
    initializers: new Map(),
    nodes: [
      node('b_add', 'Add', ['s_in', 'x_in'], ['t']),
      node('b_relu', 'Relu', ['t'], ['s_out']),
      node('b_exp', 'Exp', ['t'], ['e']),
      node('b_sig', 'Sigmoid', ['e'], ['y_out']),
    ],
    valueInfo: new Map(),
  };
  return {
    irVersion: 8, producer: 'memlens-test', opsets: { '': 17 }, metadata: {},
    graph: {
      name: 'scan',
      inputs: [f('x0'), f('xs', [trips, ...SHAPE])],
      outputs: [f('y'), f('ys', [trips, ...SHAPE])],
      initializers: new Map(),
      nodes: [
        node('pre', 'Relu', ['x0'], ['s0']),
        node('scan', 'Scan', ['s0', 'xs'], ['s_final', 'ys'], { body: { kind: 'graph', value: body }, num_scan_inputs: { kind: 'int', value: 1 } }),
        node('post', 'Neg', ['s_final'], ['y']),
      ],
      valueInfo: new Map(),
    },
  };
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
