// Loop in the simulation of what ONNX Runtime holds (engine/ort/held.ts) against a real
// onnxruntime-node session: per trip the body runs with its own plan in the same arena, its fetches
// become the next trip's feeds, scan slices stay alive until the Loop stacks them (loop.cc).
import { describe, it } from 'node:test';
import type { Model, ValueInfo } from '../../../extension/engine/graph';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { ModelProto } from '../../../extension/engine/onnx/schema';
import { int } from '../../fixtures/graph-builder';
import { ARENA_SHAPE, boolScalar, f32, graph, graphAttr, int64Scalar, model, node } from '../../fixtures/subgraphs';
import { expectHeldAsOrt } from './held-against-ort';

/** A Loop body's first inputs and output: the iteration number and the condition in and out. */
const ITERATION: ValueInfo[] = [{ name: 'i', dtype: 'int64', shape: [] }, { name: 'c_in', dtype: 'bool', shape: [] }];
const COND_OUT: ValueInfo = { name: 'c_out', dtype: 'bool', shape: [] };
const keepGoing = () => node('b_cond', 'Identity', ['c_in'], ['c_out']);

/**
 * v_final, s = Loop(M=trips, cond=true, v=x): body t = Sigmoid(v); v' = Add(t, v); s = Mul(t, 0.5);
 * cond' = Identity(cond). With an outer value `z = Exp(x)` the body also adds z (an implicit input).
 */
function loopModel(trips: number, implicit: boolean): Model {
  // A body Constant is a small initializer of the body's session state: reserved arena memory.
  const half = { name: 'half', dtype: 'float32' as const, dims: [], external: false, raw: new Uint8Array(new Float32Array([0.5]).buffer) };
  const body = graph('body', {
    inputs: [...ITERATION, f32('v_in')],
    outputs: [COND_OUT, f32('v_out'), f32('s_out')],
    nodes: [
      node('b_sig', 'Sigmoid', ['v_in'], ['t']),
      node('b_add', 'Add', ['t', implicit ? 'z' : 'v_in'], ['v_out']),
      node('b_half', 'Constant', [], ['half'], { value: { kind: 'tensor', value: half } }),
      node('b_mul', 'Mul', ['t', 'half'], ['s_out']),
      keepGoing(),
    ],
  });
  const pre = implicit ? [node('pre', 'Exp', ['x'], ['z'])] : [];
  return model(graph('loop', {
    inputs: [f32('x')],
    outputs: [f32('y'), f32('s', [trips, ...ARENA_SHAPE])],
    initializers: [int64Scalar('M', trips), boolScalar('c', true)],
    nodes: [...pre, node('loop', 'Loop', ['M', 'c', 'x'], ['v_final', 's'], { body: graphAttr(body) }), node('post', 'Neg', ['v_final'], ['y'])],
  }));
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
  const row = (name: string) => f32(name, [1, width]);
  const body = graph('body', {
    inputs: [...ITERATION, row('h_in'), row('seq_in')],
    outputs: [COND_OUT, row('h_out'), row('seq_out')],
    nodes: [
      node('b_tanh', 'Tanh', ['h_in'], ['h_out']),
      node('b_sig', 'Sigmoid', ['h_out'], ['p']),
      node('b_insert', 'SequenceInsert', ['seq_in', 'p'], ['seq_out']),
      keepGoing(),
    ],
  });
  return model(graph('loop-seq', {
    inputs: [row('x')],
    outputs: [row('h'), f32('y', [trips, width])],
    initializers: [int64Scalar('M', trips), boolScalar('c', true)],
    nodes: [
      node('empty', 'SequenceEmpty', [], ['seq0'], { dtype: int(1) }),
      node('loop', 'Loop', ['M', 'c', 'x', 'seq0'], ['h', 'seq'], { body: graphAttr(body) }),
      node('concat', 'ConcatFromSequence', ['seq'], ['y'], { axis: int(0) }),
    ],
  }));
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
