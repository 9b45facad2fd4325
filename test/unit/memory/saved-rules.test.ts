// Every saved-for-backward rule, with hand-computed expectations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GraphNode } from '../../../extension/engine/graph';
import { savedForBackward, type SavedItem } from '../../../extension/engine/memory/saved-rules';
import type { InferredTensor } from '../../../extension/engine/shapes/types';

function node(opType: string, inputs: string[], outputs: string[], attributes: GraphNode['attributes'] = {}): GraphNode {
  return { name: opType, opType, domain: '', inputs, outputs, attributes, metadata: {} };
}

const shapes: Record<string, InferredTensor> = {
  x: { dtype: 'float32', shape: [2, 16, 64] },
  w: { dtype: 'float32', shape: [64, 64] },
  y: { dtype: 'float32', shape: [2, 16, 64] },
  img: { dtype: 'float32', shape: [8, 32, 28, 28] },
  pooled: { dtype: 'float32', shape: [8, 32, 14, 14] },
  logits: { dtype: 'float32', shape: [32, 50257] },
  target: { dtype: 'int64', shape: [32] },
  ids: { dtype: 'int64', shape: [2, 16] },
};

function saved(n: GraphNode, grads: boolean[] = [true, true, true]) {
  return savedForBackward(n, { tensor: (name) => shapes[name], requiresGrad: (i) => grads[i] ?? false, scalar: () => undefined, device: 'cuda', torchMajor: null });
}
const names = (items: SavedItem[]) => items.map((i) => (i.kind === 'tensor' ? i.name : `extra:${i.label}:${i.dtype}:${i.elements}`));

test('MatMul saves each input only when the other needs a gradient', () => {
  assert.deepEqual(names(saved(node('MatMul', ['x', 'w'], ['y'])).saved), ['x', 'w']);
  // Frozen weight: dX = dY·Wᵀ needs W, no dW so x is not kept.
  assert.deepEqual(names(saved(node('MatMul', ['x', 'w'], ['y']), [true, false]).saved), ['w']);
  assert.deepEqual(names(saved(node('MatMul', ['x', 'w'], ['y']), [false, true]).saved), ['x']);
});

test('element-wise: Add saves nothing, Mul saves the other input, ReLU/Sigmoid/Tanh/Exp their output, GELU its input', () => {
  assert.deepEqual(names(saved(node('Add', ['x', 'y'], ['z'])).saved), []);
  assert.deepEqual(names(saved(node('Mul', ['x', 'y'], ['z'])).saved), ['x', 'y']);
  for (const op of ['Relu', 'Sigmoid', 'Tanh', 'Exp', 'Sqrt']) assert.deepEqual(names(saved(node(op, ['x'], ['y'])).saved), ['y'], op);
  for (const op of ['Gelu', 'Erf', 'Log', 'LeakyRelu']) assert.deepEqual(names(saved(node(op, ['x'], ['y'])).saved), ['x'], op);
});

test('Softmax and LogSoftmax save their output', () => {
  assert.deepEqual(names(saved(node('Softmax', ['x'], ['y'])).saved), ['y']);
  assert.deepEqual(names(saved(node('LogSoftmax', ['x'], ['y'])).saved), ['y']);
});

test('LayerNorm saves input, weight and fp32 mean + inverse std per row (2*16 rows * 2 stats)', () => {
  const d = saved(node('LayerNormalization', ['x', 'w', 'b'], ['y'], { axis: { kind: 'int', value: -1 } }));
  assert.deepEqual(names(d.saved), ['x', 'w', 'extra:mean, inverse std:float32:64']);
  // When the graph already outputs Mean and InvStdDev, those tensors are the saved ones.
  const e = saved(node('LayerNormalization', ['x', 'w', 'b'], ['y', 'mean', 'istd']));
  assert.deepEqual(names(e.saved), ['x', 'w', 'mean', 'istd']);
});

test('RMSNorm saves input, weight and one fp32 inverse RMS per row', () => {
  const d = saved(node('SimplifiedLayerNormalization', ['x', 'w'], ['y']));
  assert.deepEqual(names(d.saved), ['x', 'w', 'extra:inverse RMS:float32:32']);
});

test('BatchNorm saves input, scale and per-channel statistics (2 x 32 channels)', () => {
  const d = saved(node('BatchNormalization', ['img', 'w', 'b', 'm', 'v'], ['y']));
  assert.deepEqual(names(d.saved), ['img', 'w', 'extra:mean, inverse std:float32:64']);
});

test('Dropout saves a 1-byte mask per element and is flagged random', () => {
  const d = saved(node('Dropout', ['x'], ['y']));
  assert.deepEqual(names(d.saved), ['extra:dropout mask:bool:2048']);
  assert.equal(d.random, true);
});

test('MaxPool saves its input and int64 argmax indices the size of its output', () => {
  const d = saved(node('MaxPool', ['img'], ['pooled']));
  assert.deepEqual(names(d.saved), ['img', `extra:argmax indices:int64:${8 * 32 * 14 * 14}`]);
});

test('views and shape ops save nothing; Gather saves its indices', () => {
  for (const op of ['Reshape', 'Transpose', 'Concat', 'Slice', 'Cast', 'ReduceMean']) assert.deepEqual(names(saved(node(op, ['x', 'w'], ['y'])).saved), [], op);
  assert.deepEqual(names(saved(node('Gather', ['w', 'ids'], ['y'])).saved), ['ids']);
});

test('cross-entropy saves log-probabilities of batch x vocabulary and the target', () => {
  const d = saved(node('SoftmaxCrossEntropyLoss', ['logits', 'target'], ['loss']));
  assert.deepEqual(names(d.saved), [`extra:log-probabilities:float32:${32 * 50257}`, 'target']);
});

test('fused attention keeps q, k, v, output and a per-row log-sum-exp, never T x T scores', () => {
  const d = saved(node('MultiHeadAttention', ['x', 'y', 'x'], ['o'], { num_heads: { kind: 'int', value: 4 } }));
  assert.deepEqual(names(d.saved), ['x', 'y', 'x', 'o', `extra:log-sum-exp:float32:${2 * 16 * 4}`]);
});

test('an op with no rule is reported, not guessed: nothing counted, marked unknown', () => {
  const d = saved(node('MysteryOp', ['x', 'w'], ['y']));
  assert.deepEqual(names(d.saved), []);
  assert.equal(d.unknown, true);
  assert.match(d.rule, /no saved-for-backward rule known/);
});

test('integer and bool results carry no gradient: Shape of a tensor that needs one saves nothing and is not unknown', () => {
  const d = saved(node('Shape', ['x'], ['ids']));
  assert.deepEqual(names(d.saved), []);
  assert.equal(d.unknown, undefined);
});

test('Div by a Python scalar saves nothing; by a tensor, the divisor (and the dividend when the divisor needs a gradient)', () => {
  const ctx = (grads: boolean[]) => ({ tensor: (n: string) => shapes[n], requiresGrad: (i: number) => grads[i] ?? false, scalar: (n: string) => (n === 'c' ? 8 : undefined), device: 'cuda' as const, torchMajor: null });
  assert.deepEqual(names(savedForBackward(node('Div', ['x', 'c'], ['z']), ctx([true, false])).saved), []);
  assert.deepEqual(names(savedForBackward(node('Div', ['x', 'y'], ['z']), ctx([true, false])).saved), ['y']);
  assert.deepEqual(names(savedForBackward(node('Div', ['x', 'y'], ['z']), ctx([true, true])).saved), ['x', 'y']);
  // pow.Tensor_Scalar keeps the base only.
  assert.deepEqual(names(savedForBackward(node('Pow', ['x', 'c'], ['z']), ctx([true, false])).saved), ['x']);
});

test('Dropout: CPU keeps float noise, CUDA a bool mask, p = 0 nothing', () => {
  const ctx = (device: 'cpu' | 'cuda', p: number) => ({ tensor: (n: string) => shapes[n], requiresGrad: () => true, scalar: (n: string) => (n === 'p' ? p : undefined), device, torchMajor: null });
  const d = node('Dropout', ['x', 'p'], ['y']);
  assert.deepEqual(names(savedForBackward(d, ctx('cpu', 0.1)).saved), ['extra:dropout noise:float32:2048']);
  assert.deepEqual(names(savedForBackward(d, ctx('cuda', 0.1)).saved), ['extra:dropout mask:bool:2048']);
  assert.deepEqual(names(savedForBackward(d, ctx('cpu', 0)).saved), []);
});
