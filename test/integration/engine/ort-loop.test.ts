// Loop in the simulation of what ONNX Runtime holds (engine/ort/held.ts) against a real
// onnxruntime-node session: per trip the body runs with its own plan in the same arena, its fetches
// become the next trip's feeds, scan slices stay alive until the Loop stacks them (loop.cc).
import { describe, it } from 'node:test';
import type { Graph, GraphNode, Initializer, Model } from '../../../extension/engine/graph';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { expectHeldAsOrt } from './held-against-ort';
import { ModelProto } from '../../../extension/engine/onnx/schema';

const SHAPE = [1, 64, 1024]; // 256 KiB of float32: every tensor is its own arena request

const node = (name: string, opType: string, inputs: string[], outputs: string[], attributes: GraphNode['attributes'] = {}): GraphNode =>
  ({ name, opType, domain: '', inputs, outputs, attributes, metadata: {} });

const int64 = (name: string, v: number): Initializer => {
  const raw = new Uint8Array(8);
  new DataView(raw.buffer).setBigInt64(0, BigInt(v), true);
  return { name, dtype: 'int64', dims: [], external: false, raw };
};

/**
 * v_final, s = Loop(M=trips, cond=true, v=x): body t = Sigmoid(v); v' = Add(t, v); s = Mul(t, 0.5);
 * cond' = Identity(cond). With an outer value `z = Exp(x)` the body also adds z (an implicit input).
 */
function loopModel(trips: number, implicit: boolean): Model {
  const f = (name: string, shape: number[] = SHAPE) => ({ name, dtype: 'float32' as const, shape });
  const body: Graph = {
    name: 'body',
    inputs: [{ name: 'i', dtype: 'int64', shape: [] }, { name: 'c_in', dtype: 'bool', shape: [] }, f('v_in')],
    outputs: [{ name: 'c_out', dtype: 'bool', shape: [] }, f('v_out'), f('s_out')],
    initializers: new Map(),
    nodes: [
      node('b_sig', 'Sigmoid', ['v_in'], ['t']),
      node('b_add', 'Add', ['t', implicit ? 'z' : 'v_in'], ['v_out']),
      // A body Constant is a small initializer of the body's session state: reserved arena memory.
      node('b_half', 'Constant', [], ['half'], { value: { kind: 'tensor', value: { name: 'half', dtype: 'float32', dims: [], external: false, raw: new Uint8Array(new Float32Array([0.5]).buffer) } } }),
      node('b_mul', 'Mul', ['t', 'half'], ['s_out']),
      node('b_cond', 'Identity', ['c_in'], ['c_out']),
    ],
    valueInfo: new Map(),
  };
  const pre = implicit ? [node('pre', 'Exp', ['x'], ['z'])] : [];
  return {
    irVersion: 8, producer: 'memlens-test', opsets: { '': 17 }, metadata: {},
    graph: {
      name: 'loop',
      inputs: [f('x')],
      outputs: [f('y'), f('s', [trips, ...SHAPE])],
      initializers: new Map([
        ['M', int64('M', trips)],
        ['c', { name: 'c', dtype: 'bool', dims: [], external: false, raw: new Uint8Array([1]) }],
      ]),
      nodes: [...pre, node('loop', 'Loop', ['M', 'c', 'x'], ['v_final', 's'], { body: { kind: 'graph', value: body } }), node('post', 'Neg', ['v_final'], ['y'])],
      valueInfo: new Map(),
    },
  };
}

describe('Loop: each trip runs the body in the same arena; scan slices live until stacked, against a real session', () => {
  for (const [trips, implicit] of [[3, false], [5, true]] as const) {
    it(`${trips} trips${implicit ? ', an outer value read in the body' : ''}: peak, held and every node`, async () => {
      const bytes = encodeModel(loopModel(trips, implicit));
      // ORT reports each body node once, with the last trip's figures; the simulation's last entry is that trip.
      await expectHeldAsOrt(bytes, 'loop.onnx', (implicit ? 3 : 2) + 4);
    });
  }
});

/**
 * h, seq = Loop(M=trips, cond=true, h=x, seq=SequenceEmpty()): body h' = Tanh(h);
 * seq' = SequenceInsert(seq, Sigmoid(h')); then y = ConcatFromSequence(seq, axis 0).
 */
function sequenceLoopModel(trips: number, width: number): Model {
  const f = (name: string, shape: number[] = [1, width]) => ({ name, dtype: 'float32' as const, shape });
  const body: Graph = {
    name: 'body',
    inputs: [{ name: 'i', dtype: 'int64', shape: [] }, { name: 'c_in', dtype: 'bool', shape: [] }, f('h_in'), f('seq_in')],
    outputs: [{ name: 'c_out', dtype: 'bool', shape: [] }, f('h_out'), f('seq_out')],
    initializers: new Map(),
    nodes: [
      node('b_tanh', 'Tanh', ['h_in'], ['h_out']),
      node('b_sig', 'Sigmoid', ['h_out'], ['p']),
      node('b_insert', 'SequenceInsert', ['seq_in', 'p'], ['seq_out']),
      node('b_cond', 'Identity', ['c_in'], ['c_out']),
    ],
    valueInfo: new Map(),
  };
  return {
    irVersion: 8, producer: 'memlens-test', opsets: { '': 17 }, metadata: {},
    graph: {
      name: 'loop-seq',
      inputs: [f('x')],
      outputs: [f('h'), f('y', [trips, width])],
      initializers: new Map([
        ['M', int64('M', trips)],
        ['c', { name: 'c', dtype: 'bool', dims: [], external: false, raw: new Uint8Array([1]) }],
      ]),
      nodes: [
        node('empty', 'SequenceEmpty', [], ['seq0'], { dtype: { kind: 'int', value: 1 } }),
        node('loop', 'Loop', ['M', 'c', 'x', 'seq0'], ['h', 'seq'], { body: { kind: 'graph', value: body } }),
        node('concat', 'ConcatFromSequence', ['seq'], ['y'], { axis: { kind: 'int', value: 0 } }),
      ],
      valueInfo: new Map(),
    },
  };
}

/** The plain Model has no sequence types: the body's sequence input and output are retyped in the proto. */
function withSequenceBodyTypes(bytes: Uint8Array, width: number): Uint8Array {
  const pb = ModelProto.toObject(ModelProto.decode(bytes)) as { graph: { node: { opType: string; attribute: { g?: { input: { name: string; type: unknown }[]; output: { name: string; type: unknown }[] } }[] }[] } };
  const element = { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: width }] } } };
  const body = pb.graph.node.find((n) => n.opType === 'Loop')!.attribute[0].g!;
  for (const v of [...body.input, ...body.output]) if (v.name.startsWith('seq')) v.type = { sequenceType: { elemType: element } };
  return ModelProto.encode(ModelProto.fromObject(pb)).finish();
}

describe('Loop carrying a sequence: SequenceInsert copies only the inserted tensor; every element lives until the Loop ends', () => {
  for (const width of [40, 64 * 1024]) {
    it(`6 trips of ${width * 4} B elements: peak, held and every node`, async () => {
      const bytes = withSequenceBodyTypes(encodeModel(sequenceLoopModel(6, width)), width);
      await expectHeldAsOrt(bytes, 'loop.onnx', 3 + 4);
    });
  }
});
