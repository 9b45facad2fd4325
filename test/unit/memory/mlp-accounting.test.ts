// Exact accounting on a two-layer MLP, computed by hand step by step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeModel } from '../../../extension/engine/analyze';
import { withDefaults } from '../../../extension/engine/settings';
import { GraphBuilder } from '../../fixtures/graph-builder';

// x[2,4] -> MatMul W1[4,8] -> Relu -> MatMul W2[8,3] -> y[2,3]; all fp32.
function mlp() {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [2, 4]);
  const h = b.one('MatMul', [x, b.weight('W1', [4, 8])], { name: 'fc1' });
  const r = b.one('Relu', [h], { name: 'relu' });
  b.one('MatMul', [r, b.weight('W2', [8, 3])], { name: 'fc2', outputs: ['y'] });
  b.output('y', 'float32', [2, 3]);
  return b.model();
}

test('inference: weights, input, in-place Relu and the peak at fc2', () => {
  const p = analyzeModel(mlp(), withDefaults({ mode: 'infer' }), { source: 'mlp.onnx', entry: null });
  assert.equal(p.params, 32 + 24);
  assert.equal(p.totals.weightBytes, 224);
  // step 0: 224 weights + 32 input + 64 h; step 1: Relu writes into h's buffer; step 2: + y 24.
  assert.deepEqual(p.timeline.map((t) => t.liveBytes), [320, 320, 344]);
  assert.equal(p.peak.bytes, 344);
  assert.equal(p.peak.node, 'fc2');
  assert.equal(p.peak.phase, 'forward');
  // W2 (96 B) is at most 127 B: ONNX Runtime copies it into its arena, so it counts with the arena
  // (`other`) rather than beside it; W1 (128 B) is used in place.
  assert.equal(p.breakdown.weights, 128);
  assert.equal(p.breakdown.other, 96);
  assert.equal(p.breakdown.inputs, 32);
  assert.equal(p.breakdown.activations, 64);
  assert.equal(p.breakdown.outputs, 24);
  assert.equal(p.unknownTensors, 0);
});

test('training with AdamW: saved activations, gradients, optimizer state, peak at the step', () => {
  const p = analyzeModel(mlp(), withDefaults({ mode: 'train', optimizer: 'adamw' }), { source: 'mlp.onnx', entry: null });
  assert.equal(p.trainableParams, 56);
  assert.equal(p.totals.gradientBytes, 224);
  assert.equal(p.totals.optimizerStateBytes, 56 * 8);
  // Relu's output is kept for fc2's weight gradient and Relu's own backward; x is a user input.
  assert.equal(p.totals.savedActivationBytes, 64);
  // persistent 224 + 32 + 448 = 704, plus per step (see the hand derivation in the test name's notes):
  // fwd: h | h+r | r+y ; bwd fc2: r+y+dy+dr+dW2 ; bwd relu: r+y+dr+dh+dW2 ; bwd fc1: y+dh+dW2+dW1 ; step: y+dW2+dW1+temp,
  // where temp is PyTorch 2's foreach AdamW on CUDA (the default device): one fp32 copy of every parameter, 56 * 4 = 224.
  assert.deepEqual(p.timeline.map((t) => t.liveBytes), [768, 832, 792, 976, 1016, 1016, 1176]);
  assert.deepEqual(p.timeline.map((t) => t.phase), ['forward', 'forward', 'forward', 'backward', 'backward', 'backward', 'optimizer']);
  assert.equal(p.peak.bytes, 1176);
  assert.equal(p.peak.phase, 'optimizer');
  assert.equal(p.breakdown.optimizerState, 448);
  assert.equal(p.breakdown.gradients, 224);
});

test('training under mixed precision: 16-bit weights and grads, fp32 master in optimizer state (16 B/param)', () => {
  const p = analyzeModel(mlp(), withDefaults({ mode: 'train', optimizer: 'adamw', dtype: 'bf16' }), { source: 'mlp.onnx', entry: null });
  const perParam = (p.totals.weightBytes + p.totals.gradientBytes + p.totals.optimizerStateBytes) / p.trainableParams;
  assert.equal(perParam, 16);
});

test('frozen parameters get no gradient and no optimizer state', () => {
  const m = mlp();
  m.metadata['memlens.frozen'] = JSON.stringify(['W1']);
  const p = analyzeModel(m, withDefaults({ mode: 'train', optimizer: 'adamw' }), { source: 'mlp.onnx', entry: null });
  assert.equal(p.trainableParams, 24);
  assert.equal(p.totals.gradientBytes, 96);
  assert.equal(p.totals.optimizerStateBytes, 192);
});

test('optimizer state per parameter: sgd 0, momentum 4, adam 8, 8-bit adam 2 + block absmax', () => {
  const state = (optimizer: 'sgd' | 'sgd-momentum' | 'adam' | 'adam8bit') =>
    analyzeModel(mlp(), withDefaults({ mode: 'train', optimizer }), { source: 'm', entry: null }).totals.optimizerStateBytes;
  assert.equal(state('sgd'), 0);
  assert.equal(state('sgd-momentum'), 56 * 4);
  assert.equal(state('adam'), 56 * 8);
  // ceil per tensor: W1 32 * (2 + 8/2048), W2 24 * (2 + 8/2048)
  assert.equal(state('adam8bit'), Math.ceil(32 * (2 + 8 / 2048)) + Math.ceil(24 * (2 + 8 / 2048)));
});
