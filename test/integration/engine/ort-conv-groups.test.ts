// Conv scratch when batched or grouped (engine/ort/scratch.ts, MlasConvPrepare's
// BatchCount > 1 || GroupCount > 1 case) against a real onnxruntime-node session: one working
// panel per thread, min(pool, batch x group) threads; the arena peak and every node's requested
// bytes as ORT reports them.
import { describe, it } from 'node:test';
import type { Dim } from '../../../extension/engine/graph';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { GraphBuilder, int, ints } from '../../fixtures/graph-builder';
import { expectHeldAsOrt } from './held-against-ort';

/** Relu(x) -> Conv(group) -> Neg: the Conv's scratch lands on top of its input and output. */
function convModel(x: number[], w: number[], group: number, pads: number[]): Uint8Array {
  const b = new GraphBuilder();
  const input = b.input('x', 'float32', x);
  const weight = b.weight('w', w);
  const r = b.one('Relu', [input], { name: 'relu' });
  const c = b.one('Conv', [r, weight], { name: 'conv', attrs: { group: int(group), pads: ints(pads), kernel_shape: ints(w.slice(2)) } });
  b.op('Neg', [c], { name: 'neg', outputs: ['y'] });
  const out: Dim[] = [x[0], w[0], ...x.slice(2)];
  b.output('y', 'float32', out);
  return encodeModel(b.model(17));
}

describe('Conv scratch, batched or grouped, against a real session', () => {
  it('a depthwise 1-D conv (silero VAD\'s first layer)', async () => {
    await expectHeldAsOrt(convModel([1, 64, 32], [64, 1, 5], 64, [2, 2]), 'dw1d.onnx', 3);
  });
  it('a grouped 2-D conv, four channels per group', async () => {
    await expectHeldAsOrt(convModel([1, 16, 28, 28], [16, 4, 3, 3], 4, [1, 1, 1, 1]), 'grouped2d.onnx', 3);
  });
  it('a batch of three through an ungrouped 2-D conv', async () => {
    await expectHeldAsOrt(convModel([3, 8, 28, 28], [8, 8, 3, 3], 1, [1, 1, 1, 1]), 'batched2d.onnx', 3);
  });
});
