// KV cache recognised from past/present names in an exported-style decoder, sized exactly with
// grouped key/value heads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeModel } from '../../../extension/engine/analyze';
import { applyRewrites } from '../../../extension/engine/onnx-rewrite/apply';
import { withDefaults } from '../../../extension/engine/settings';
import { mlpStack } from '../../fixtures/layered-models';
import { syntheticDecoder } from '../../fixtures/synthetic-decoder';

const small = { layers: 2, hidden: 64, heads: 8, kvHeads: 2, ffn: 128, vocab: 100 };

test('GQA decoder: present KV = 2 * layers * kv_heads * head_dim * total_len * batch * 4 B', () => {
  const p = analyzeModel(syntheticDecoder(small), withDefaults({ batch: 3, dims: { sequence: 5, past_sequence: 7, total_sequence: 12 } }), { source: 'd', entry: null });
  assert.equal(p.unknownTensors, 0, p.warnings.join('\n'));
  assert.equal(p.totals.kvCacheBytes, 2 * 2 * 2 * 8 * 12 * 3 * 4);
  // Past inputs and present outputs are both KV cache and both live at the end of the step.
  const last = p.timeline[p.timeline.length - 1];
  assert.equal(last.byCategory.kvCache, 2 * 2 * 2 * 8 * (12 + 7) * 3 * 4);
  const kvLines = p.lines.filter((l) => l.kvBytes > 0);
  assert.equal(kvLines.reduce((a, l) => a + l.kvBytes, 0), p.totals.kvCacheBytes);
});

test('Llama-3-8B shapes at 2^20 tokens in fp16: KV cache is 137,438,953,472 bytes', () => {
  const llama8b = { layers: 32, hidden: 4096, heads: 32, kvHeads: 8, ffn: 14336, vocab: 128256 };
  const p = analyzeModel(syntheticDecoder(llama8b), withDefaults({ dtype: 'fp16', batch: 1, dims: { sequence: 1, past_sequence: 2 ** 20 - 1, total_sequence: 2 ** 20 } }), { source: 'd', entry: null });
  assert.equal(p.totals.kvCacheBytes, 137_438_953_472);
});

test('offloaded KV cache: at most two layers of past and present cache on the device at any step', () => {
  const shape = { ...small, layers: 6 };
  const settings = withDefaults({ batch: 1, dims: { sequence: 1, past_sequence: 999, total_sequence: 1000 } });
  const model = syntheticDecoder(shape);
  const base = analyzeModel(model, settings, { source: 'd', entry: null });
  const offloaded = analyzeModel(applyRewrites(model, [{ kind: 'offload-kv' }]), settings, { source: 'd', entry: null });
  // Per layer, k and v of [1, 2, T, 8] fp32: past T = 999, present T = 1000.
  const past = 2 * 2 * 8 * 999 * 4, present = 2 * 2 * 8 * 1000 * 4;
  const kvMax = (p: typeof base) => Math.max(...p.timeline.map((t) => t.byCategory.kvCache));
  assert.equal(kvMax(base), 6 * (past + present));
  assert.ok(kvMax(offloaded) <= 2 * (past + present), `${kvMax(offloaded)}`);
  assert.ok(kvMax(offloaded) >= past + present, `${kvMax(offloaded)}`);
  // The cache's total size is unchanged: it lives in host memory.
  assert.equal(offloaded.totals.kvCacheBytes, base.totals.kvCacheBytes);
  // Nothing else moves: the peak drops by the cache that left the device at the new peak step.
  const at = offloaded.timeline.findIndex((t) => t.liveBytes === offloaded.peak.bytes);
  assert.equal(base.timeline[at].liveBytes - offloaded.peak.bytes, base.timeline[at].byCategory.kvCache - offloaded.breakdown.kvCache);
  assert.ok(offloaded.peak.bytes < base.peak.bytes);
});

test('offloading a model without a KV cache is refused', () => {
  assert.throws(() => applyRewrites(mlpStack({ layers: 2, batch: 1, hidden: 8, ffn: 16 }), [{ kind: 'offload-kv' }]), /no KV cache/);
});
