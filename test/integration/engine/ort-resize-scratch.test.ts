// Resize scratch (engine/ort/scratch.ts, upsample.cc's UpsampleBilinear) against a real
// onnxruntime-node session: the bilinear index and weight buffer inside the call, none for
// nearest; the arena peak and every node's requested bytes as ORT reports them.
import { describe, it } from 'node:test';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { GraphBuilder } from '../../fixtures/graph-builder';
import { expectHeldAsOrt } from './held-against-ort';

/** Relu(x) -> Resize(sizes) -> Neg. */
function resizeModel(mode: string, x: number[], sizes: number[]): Uint8Array {
  const b = new GraphBuilder();
  const input = b.input('x', 'float32', x);
  const r = b.one('Relu', [input], { name: 'relu' });
  const z = b.one('Resize', [r, '', '', b.ints(sizes)], { name: 'resize', attrs: { mode: { kind: 'string', value: mode } } });
  b.op('Neg', [z], { name: 'neg', outputs: ['y'] });
  b.output('y', 'float32', sizes);
  return encodeModel(b.model(17));
}

describe('Resize scratch against a real session', () => {
  it('linear, NCHW: 16 B per output row and column', async () => {
    await expectHeldAsOrt(resizeModel('linear', [1, 4, 16, 16], [1, 4, 256, 320]), 'resize-linear.onnx', 3);
  });
  it('nearest: none', async () => {
    await expectHeldAsOrt(resizeModel('nearest', [1, 4, 16, 16], [1, 4, 256, 320]), 'resize-nearest.onnx', 3);
  });
});
