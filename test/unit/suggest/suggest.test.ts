// The suggestion engine per kind: the formula figure at the peak (hand-derived), the re-analysed
// peak of the rewritten copy, the warnings, and that the input model is left as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeModel } from '../../../extension/engine/analyze';
import { applyRewrites } from '../../../extension/engine/onnx-rewrite/apply';
import { withDefaults } from '../../../extension/engine/settings';
import { suggestRewrites } from '../../../extension/engine/suggest/suggest';
import type { Suggestion } from '../../../extension/engine/suggest/types';
import { mlpStack, tinyDecoder } from '../../fixtures/layered-models';
import { syntheticDecoder } from '../../fixtures/synthetic-decoder';
import { GraphBuilder } from '../../fixtures/graph-builder';

const train = withDefaults({ mode: 'train', optimizer: 'adamw' });
const find = (list: Suggestion[], id: string) => {
  const s = list.find((x) => x.id === id);
  assert.ok(s, `no suggestion ${id} in ${list.map((x) => x.id).join(', ')}`);
  return s;
};

test('checkpointing the layer loop drops each layer\'s Relu output (B·F·4 bytes per layer) at a backward-start peak', () => {
  const m = mlpStack({ layers: 4, batch: 256, hidden: 16, ffn: 64 });
  const before = JSON.stringify([...m.graph.nodes.map((n) => n.metadata)]);
  const base = analyzeModel(m, train, { source: 'm', entry: null });
  assert.equal(base.peak.phase, 'backward');
  assert.equal(base.peak.node, '/blocks.3/mlp/Relu');
  const s = find(suggestRewrites(m, train, { source: 'm', profile: base }), 'checkpoint:blocks');
  // Relu saves its output r [256, 64] fp32 for itself and fc2; both consumers are inside the layer.
  // The peak is inside layer 3's backward, where layer 3 has been recomputed: layers 0-2 are dropped.
  assert.equal(s.predicted.savingBytes, 3 * 256 * 64 * 4);
  assert.ok(s.reanalysed && s.reanalysed.peakBytes < base.peak.bytes);
  // Recompute: every layer's forward once more = all MatMul FLOPs + elementwise; the ReduceSum loss is outside.
  const layerFlops = 2 * 256 * 64 * 16 * 2 + 256 * 64 + 256 * 16;
  assert.equal(s.cost.recomputeFlops, 4 * layerFlops);
  assert.equal(s.cost.recomputeShare, (4 * layerFlops) / (4 * layerFlops + 256 * 16));
  assert.match(s.title, /^Checkpoint every layer of blocks \(4 layers\): peak .* → .*, \+100% forward compute$/);
  assert.deepEqual(s.warnings, []);
  assert.equal(JSON.stringify([...m.graph.nodes.map((n) => n.metadata)]), before, 'the input model is not changed');
});

test('Dropout inside a recomputed region is flagged', () => {
  const m = mlpStack({ layers: 2, batch: 256, hidden: 16, ffn: 64, dropout: true });
  const s = find(suggestRewrites(m, train, { source: 'm' }), 'checkpoint:blocks');
  assert.ok(s.warnings.some((w) => /^Dropout inside the recomputed region: .*RNG state/.test(w)), s.warnings.join('\n'));
  const off = find(suggestRewrites(m, train, { source: 'm' }), 'offload:blocks');
  assert.ok(!off.warnings.some((w) => /Dropout/.test(w)), 'offload recomputes nothing');
});

test('a peak outside the region: checkpointing says it cannot lower it', () => {
  // Big weights, tiny batch: the peak is the optimizer step, where no activation is alive.
  const m = mlpStack({ layers: 2, batch: 1, hidden: 256, ffn: 1024 });
  const base = analyzeModel(m, train, { source: 'm', entry: null });
  assert.equal(base.peak.phase, 'optimizer');
  const s = find(suggestRewrites(m, train, { source: 'm', profile: base }), 'checkpoint:blocks');
  assert.equal(s.predicted.savingBytes, 0);
  assert.equal(s.reanalysed?.peakBytes, base.peak.bytes);
  assert.ok(s.warnings.some((w) => w.startsWith('cannot lower the peak: the peak is at optimizer OptimizerStep optimizer.step')), s.warnings.join('\n'));
});

test('fused attention replaces each softmax(QKᵀ)V chain and removes the B·H·T·T scores', () => {
  const cfg = { layers: 2, batch: 2, seq: 64, hidden: 32, heads: 4, vocab: 100 };
  const m = tinyDecoder(cfg);
  const infer = withDefaults({ mode: 'infer' });
  const base = analyzeModel(m, infer, { source: 'd', entry: null });
  const s = find(suggestRewrites(m, infer, { source: 'd', profile: base }), 'fused-attention');
  assert.equal(s.detail.kind === 'attention' && s.detail.sites, 2);
  const rewritten = applyRewrites(m, s.rewrites);
  assert.equal(rewritten.graph.nodes.filter((n) => n.opType === 'MultiHeadAttention').length, 2);
  assert.equal(rewritten.graph.nodes.filter((n) => n.opType === 'Softmax').length, 0);
  const mha = rewritten.graph.nodes.find((n) => n.opType === 'MultiHeadAttention')!;
  assert.equal(mha.attributes.num_heads?.kind === 'int' && mha.attributes.num_heads.value, 4);
  assert.equal(mha.attributes.scale?.kind === 'float' && mha.attributes.scale.value, 1 / Math.sqrt(8));
  assert.equal(mha.inputs[5], 'attention_bias');
  const after = analyzeModel(rewritten, infer, { source: 'd', entry: null });
  assert.equal(s.reanalysed?.peakBytes, after.peak.bytes);
  assert.ok(after.peak.bytes < base.peak.bytes);
  // Inference recomputes nothing.
  assert.equal(s.cost.recomputeFlops, 0);
});

test('int8 weights: K·N bytes + one fp32 scale per output channel; int4: K·N/2 + one scale per 32 inputs', () => {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [1, 256]);
  b.one('MatMul', [x, b.weight('W', [256, 512])], { name: '/fc/MatMul', outputs: ['y'] });
  b.output('y', 'float32', [1, 512]);
  const m = b.model(17);
  const infer = withDefaults({ mode: 'infer' });
  const list = suggestRewrites(m, infer, { source: 'q' });
  const int8 = find(list, 'quantize:fc:int8');
  const int4 = find(list, 'quantize:fc:int4');
  assert.equal(int8.predicted.savingBytes, 256 * 512 * 4 - (256 * 512 + 4 * 512));
  assert.equal(int4.predicted.savingBytes, 256 * 512 * 4 - (256 * 512 / 2 + 4 * 512 * (256 / 32)));
  const w8 = analyzeModel(applyRewrites(m, int8.rewrites), infer, { source: 'q', entry: null }).totals.weightBytes;
  const w4 = analyzeModel(applyRewrites(m, int4.rewrites), infer, { source: 'q', entry: null }).totals.weightBytes;
  assert.equal(w8, 256 * 512 + 4 * 512);
  assert.equal(w4, 256 * 512 / 2 + 4 * 512 * 8);
  // int4 is computed by MatMulNBits straight from the packed weight: the peak drops by the full saving.
  assert.equal(int4.reanalysed?.savingBytes, int4.predicted.savingBytes);
  assert.equal(int8.cost.accuracy, 'approximate');
  assert.match(int8.cost.accuracyNote, /LLM\.int8\(\)/);
});

test('KV cache as int8 stores a quarter of the fp32 bytes', () => {
  const m = syntheticDecoder({ layers: 2, hidden: 256, heads: 8, kvHeads: 2, ffn: 512, vocab: 1000 });
  const infer = withDefaults({ mode: 'infer', batch: 1, seq: 16, dims: { past_sequence: 100, total_sequence: 116 } });
  const base = analyzeModel(m, infer, { source: 'kv', entry: null });
  const s = find(suggestRewrites(m, infer, { source: 'kv', profile: base }), 'kv:int8');
  const after = analyzeModel(applyRewrites(m, s.rewrites), infer, { source: 'kv', entry: null });
  // present: 2 layers × (k, v) × [1, 2, 116, 32]; fp32 → int8.
  assert.equal(base.totals.kvCacheBytes, 2 * 2 * 2 * 116 * 32 * 4);
  assert.equal(after.totals.kvCacheBytes, 2 * 2 * 2 * 116 * 32);
  // The float copy of each layer's cache is freed once quantized: the formula saving shows at the
  // peak, less at most one layer's cache read back as floats (k and v, [1, 2, 116, 32] fp32).
  assert.ok(s.predicted.savingBytes > 0 && s.reanalysed);
  assert.equal(after.peak.bytes, base.peak.bytes - s.reanalysed.savingBytes);
  assert.ok(s.reanalysed.savingBytes >= s.predicted.savingBytes - 2 * 2 * 116 * 32 * 4, `${s.reanalysed.savingBytes}`);
});

test('chunked loss: only one slice of logits at a time', () => {
  const cfg = { layers: 1, batch: 2, seq: 32, hidden: 16, heads: 2, vocab: 4096 };
  const m = tinyDecoder(cfg);
  const base = analyzeModel(m, train, { source: 'l', entry: null });
  const s = find(suggestRewrites(m, train, { source: 'l', profile: base }), 'chunked-loss:/lm_head/MatMul');
  assert.equal(s.detail.kind === 'loss' && s.detail.chunks, 16);
  assert.ok(s.reanalysed && s.reanalysed.peakBytes < base.peak.bytes);
  const rewritten = applyRewrites(m, s.rewrites);
  assert.equal(rewritten.graph.nodes.filter((n) => n.opType === 'SoftmaxCrossEntropyLoss').length, 16);
  assert.ok(rewritten.graph.outputs.some((o) => o.name === 'loss'));
});

test('mixed precision halves fp32 figures and adds fp32 master weights to the optimizer state', () => {
  const m = mlpStack({ layers: 2, batch: 1, hidden: 256, ffn: 1024 });
  const s = find(suggestRewrites(m, train, { source: 'm' }), 'mixed-precision');
  assert.deepEqual(s.settings, { dtype: 'bf16' });
  const base = analyzeModel(m, train, { source: 'm', entry: null });
  assert.equal(s.reanalysed?.peakBytes, analyzeModel(m, { ...train, dtype: 'bf16' }, { source: 'm', entry: null }).peak.bytes);
  assert.ok(s.reanalysed.peakBytes < base.peak.bytes);
});
