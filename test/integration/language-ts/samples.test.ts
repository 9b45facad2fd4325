// The samples at their published sizes: exact parameter counts, KV-cache bytes, trace time;
// and at small sizes: every sample runs in ONNX Runtime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { traceFile } from '../../../language/typescript/trace';
import { MEMLENS_FILE, MEMLENS_LINE } from '../../../extension/engine/metadata-keys';
import { MODEL_KV_CACHE } from '../../../language/typescript/api/trace-keys';
import { kvBytes, parameterElements, structuralProblems } from './graph-facts';
import { feedsFor } from './run-model';

const ROOT = path.resolve(__dirname, '../../../..');
const sample = (name: string) => path.join(ROOT, 'samples', name);
const LONG = { timeoutMs: 120_000 };

const published: [string, string, number][] = [
  ['gpt2.ts', 'gpt2', 124_439_808],
  ['gpt2.ts', 'gpt2Decode', 124_439_808],
  ['gpt2-train.ts', 'gpt2Train', 124_439_808],
  ['llama.ts', 'llama3_8b', 8_030_261_248],
  ['llama.ts', 'llama3_8b_decode', 8_030_261_248],
  ['vit.ts', 'vit_b_16', 86_567_656],
  ['resnet.ts', 'resnet50', 25_557_032],
];

for (const [file, entry, count] of published) {
  test(`${file} ${entry}: ${count.toLocaleString('en-US')} parameters, sum of parameter initializers`, async () => {
    const r = await traceFile(sample(file), entry, LONG);
    assert.equal(parameterElements(r.model), count);
    assert.equal(r.entry.parameterCount, count);
    assert.deepEqual(structuralProblems(r.model), []);
    for (const init of r.model.graph.initializers.values()) {
      if (init.dims.reduce((a, b) => a * b, 1) > 1024) assert.equal(init.raw, undefined, `${init.name} should be shape only`);
    }
  });
}

test('llama3_70b traces at full size in seconds without allocating weights', async () => {
  const started = Date.now();
  const r = await traceFile(sample('llama.ts'), 'llama3_70b', LONG);
  const seconds = (Date.now() - started) / 1000;
  console.log(`llama3_70b: traced in ${seconds.toFixed(2)} s (child process included), ${r.model.graph.nodes.length} nodes`);
  assert.equal(parameterElements(r.model), 70_553_706_496);
  assert.ok(seconds < 30, `took ${seconds} s`);
});

test('GPT-2 small KV cache at batch 1, seq 1024, fp32: 2*12*1024*768*4 = 75,497,472 bytes', async () => {
  const r = await traceFile(sample('gpt2.ts'), 'gpt2', LONG);
  assert.equal(kvBytes(r.model, { batch: 1, sequence: 1024 }), 2 * 12 * 1024 * 768 * 4);
  assert.equal(kvBytes(r.model, { batch: 1, sequence: 1024 }), 75_497_472);
  const records = JSON.parse(r.model.metadata[MODEL_KV_CACHE]) as { layer: number; kind: string; present: string }[];
  assert.equal(records.length, 24);
  assert.deepEqual(records[0], { layer: 0, kind: 'key', past: null, present: 'present.0.key', dtype: 'float32' });
});

test('Llama-3-8B KV cache at 1,048,576 tokens fp16: 137,438,953,472 bytes (prefill and decode)', async () => {
  const prefill = await traceFile(sample('llama.ts'), 'llama3_8b', { ...LONG, dtype: 'float16' });
  assert.equal(kvBytes(prefill.model, { batch: 1, sequence: 2 ** 20 }), 137_438_953_472);
  const decode = await traceFile(sample('llama.ts'), 'llama3_8b_decode', { ...LONG, dtype: 'float16' });
  assert.equal(kvBytes(decode.model, { batch: 1, past_sequence: 2 ** 20 - 1, sequence: 1 }), 137_438_953_472);
  // Fused attention keeps the same cache.
  const fused = await traceFile(sample('llama.ts'), 'llama3_8b', { ...LONG, dtype: 'float16', config: { attention: 'fused' } });
  assert.equal(kvBytes(fused.model, { batch: 1, sequence: 2 ** 20 }), 137_438_953_472);
  // An int8 cache halves it.
  const int8 = await traceFile(sample('llama.ts'), 'llama3_8b', { ...LONG, dtype: 'float16', config: { kvDtype: 'int8' } });
  assert.equal(kvBytes(int8.model, { batch: 1, sequence: 2 ** 20 }), 137_438_953_472 / 2);
});

test('nodes of the samples point at lines of the sample files', async () => {
  const r = await traceFile(sample('llama.ts'), 'llama3_8b', LONG);
  const located = r.model.graph.nodes.filter((n) => n.metadata[MEMLENS_FILE] === sample('llama.ts'));
  assert.equal(located.length, r.model.graph.nodes.length, 'every node located in llama.ts');
  const q = r.model.graph.nodes.find((n) => n.metadata['memlens.scope'] === 'layers.5.self_attn.q_proj' && n.opType === 'Gemm');
  assert.ok(q);
  assert.equal(q.metadata[MEMLENS_LINE], '60'); // const q = this.q_proj.forward(x);
});

const small: [string, string, Record<string, unknown>][] = [
  ['gpt2.ts', 'gpt2', { layers: 2, hidden: 64, heads: 4, positions: 32, vocab: 97 }],
  ['gpt2.ts', 'gpt2Decode', { layers: 2, hidden: 64, heads: 4, positions: 32, vocab: 97 }],
  ['gpt2-train.ts', 'gpt2Train', { layers: 2, hidden: 64, heads: 4, positions: 32, vocab: 97, checkpoint: true }],
  ['llama.ts', 'llama3_8b', { layers: 2, hidden: 64, heads: 4, kvHeads: 2, headDim: 16, ffn: 96, vocab: 97 }],
  ['llama.ts', 'llama3_8b_decode', { layers: 2, hidden: 64, heads: 4, kvHeads: 1, headDim: 16, ffn: 96, vocab: 97, attention: 'fused' }],
  ['vit.ts', 'vit_b_16', { image: 32, layers: 2, hidden: 64, heads: 4, mlp: 128, classes: 10 }],
  ['resnet.ts', 'resnet50', { blocks: [1, 1, 1, 1], width: 8, classes: 10, image: 32 }],
];

for (const [file, entry, config] of small) {
  test(`${file} ${entry} at a small config runs in ONNX Runtime`, async () => {
    const r = await traceFile(sample(file), entry, { ...LONG, materialize: true, seed: 7, config });
    const session = await ort.InferenceSession.create(encodeModel(r.model));
    // A decode step feeds one new token per sequence (fused attention requires it with a batch > 1).
    const sequence = entry.toLowerCase().includes('decode') ? 1 : 5;
    const out = await session.run(feedsFor(r.model, { batch: 2, sequence, past_sequence: 3 }));
    for (const o of r.model.graph.outputs) {
      const t = out[o.name];
      assert.ok(t, `output ${o.name}`);
      for (const v of t.data as Float32Array) assert.ok(Number.isFinite(v), `${o.name} has a non-finite value`);
    }
    if (entry === 'gpt2Train') {
      const loss = (out.loss.data as Float32Array)[0];
      assert.ok(Math.abs(loss - Math.log(97)) < 0.5, `initial loss ${loss} near ln(97)`);
    }
  });
}
