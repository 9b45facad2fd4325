// The CPU provider's float16 Casts (engine/ort/insert-cast.ts, after ORT's
// insert_cast_transformer.cc) against a real onnxruntime-node session with optimisations off:
// which ops run in float16, and a graph whose Casts are inserted, shared, forced around an
// isolated float16 node and removed in pairs, node by node.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AttributeValue } from '../../../extension/engine/graph';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { CPU_FLOAT16_OPS } from '../../../extension/engine/ort/insert-cast';
import { runModel } from '../../../extension/runner/run';
import { GraphBuilder, int } from '../../fixtures/graph-builder';
import { expectHeldAsOrt } from './held-against-ort';

const SHAPE = [1, 64, 1024]; // 128 KiB of float16: every tensor is its own arena request

/** One node reading x (float16) and any extra inputs, writing y. */
function singleOp(op: string, extra: (b: GraphBuilder) => string[], outShape: number[], attrs: Record<string, AttributeValue> = {}): Uint8Array {
  const b = new GraphBuilder();
  const x = b.input('x', 'float16', [1, 4, 8, 8]);
  b.op(op, [x, ...extra(b)], { name: 'n', outputs: ['y'], attrs });
  b.output('y', op === 'Shape' ? 'int64' : 'float16', outShape);
  return encodeModel(b.model(17));
}

const S = [1, 4, 8, 8];
const OPS: [string, (b: GraphBuilder) => string[], number[], Record<string, AttributeValue>?][] = [
  // float16 kernels
  ['Concat', () => ['x'], [1, 8, 8, 8], { axis: int(1) }],
  ['Transpose', () => [], [8, 8, 4, 1]],
  ['Max', () => ['x'], S],
  ['Clip', () => [], S],
  ['Reshape', (b) => [b.ints([1, 256])], [1, 256]],
  ['Shape', () => [], [4]],
  ['LayerNormalization', (b) => [b.weight('scale', [8], 'float16')], S, { axis: int(-1) }],
  // float32 only
  ['Relu', () => [], S],
  ['Add', () => ['x'], S],
  ['Sigmoid', () => [], S],
  ['Softmax', () => [], S],
  ['MatMul', (b) => [b.weight('w', [8, 8], 'float16')], S],
  ['GlobalAveragePool', () => [], [1, 4, 1, 1]],
];

describe('InsertCastTransformer on the CPU provider, against a real session', () => {
  it('the ops listed as float16 kernels run without Casts, the others between Casts', async () => {
    for (const [op, extra, out, attrs] of OPS) {
      const r = await runModel({ model: { bytes: singleOp(op, extra, out, attrs), name: `${op}.onnx` }, ep: 'cpu', runs: 1, optimised: false }, { timeoutMs: 60_000 });
      const casted = r.attribution.nodes.some((n) => n.node.startsWith('InsertedPrecisionFreeCast_'));
      assert.equal(!casted, CPU_FLOAT16_OPS.has(op), `${op}: ORT ${casted ? 'inserted' : 'did not insert'} Casts`);
    }
  });

  it('Casts inserted, shared, forced around an isolated float16 node and removed in pairs: every node as ORT runs it', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float16', SHAPE);
    const w = b.weight('w', [1024, 256], 'float16');
    // a feeds Shape (float16 kernel: a is cast back) and Concat, which sits between cast nodes and
    // is forced to float32; the Cast pairs between Relu, Concat, Sigmoid and MatMul cancel out.
    const a = b.one('Relu', [x], { name: 'relu' });
    b.op('Shape', [a], { name: 'shape', outputs: ['s'] });
    const c = b.one('Concat', [a, a], { name: 'concat', attrs: { axis: int(1) } });
    const d = b.one('Sigmoid', [c], { name: 'sigmoid' });
    const e = b.one('Sigmoid', [x], { name: 'sigmoid_x' });
    b.op('MatMul', [d, w], { name: 'matmul', outputs: ['y'] });
    b.op('MatMul', [e, w], { name: 'matmul_x', outputs: ['z'] });
    b.output('y', 'float16', [1, 128, 256]);
    b.output('z', 'float16', [1, 64, 256]);
    b.output('s', 'int64', [3]);
    // 7 nodes, the Casts of x, w (one for both MatMuls), a (for Shape), y and z.
    await expectHeldAsOrt(encodeModel(b.model(17)), 'fp16-casts.onnx', 12);
  });
});
