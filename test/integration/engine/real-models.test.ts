// The engine on real models no one here wrote: torchvision/torch exports made by Debian's PyTorch
// (scripts/export-fixtures.py) and trained PaddleOCR models from npm, checked against the facts
// PyTorch and the onnx package computed for each (test/fixtures/models/*.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { analyzeModel } from '../../../extension/engine/analyze';
import { decodeModel } from '../../../extension/engine/onnx/decode';
import { withDefaults, type AnalysisSettings } from '../../../extension/engine/settings';
import { exportedModelNames, modelPath, npmModelNames, readFixtureFacts, type FixtureModelName } from '../../fixtures/real-models';

function profile(name: FixtureModelName, settings: Partial<AnalysisSettings>) {
  const file = modelPath(name);
  return analyzeModel(decodeModel(fs.readFileSync(file), file), withDefaults(settings), { source: file, entry: null });
}

/**
 * Gradient bytes torch keeps beyond the parameters: ViT's class token is cat'd in front of the
 * patches at batch 1 (these exports fix the batch), so AccumulateGrad keeps its .grad as a view of
 * the cat's whole (1, 197, d) gradient: 196 patch rows of d float32 more (torchvision vit_b_16's
 * forward; measured on torch in test/integration/language-python/grad-views-torch.test.ts).
 */
const KEPT_CAT_GRADIENT: Partial<Record<FixtureModelName, number>> = { vit_ti_16: 196 * 192 * 4 };

for (const name of exportedModelNames) {
  test(`${name}: parameters equal the initializers, weight bytes every stored tensor, exactly; nothing unknown; every node placed`, () => {
    const facts = readFixtureFacts(name);
    const p = profile(name, { mode: 'infer', batch: 1 });
    const floatElements = facts.onnx.initializers.bytes / 4; // all float32 (checked below)
    assert.deepEqual(Object.keys(facts.onnx.initializers.bytesByDtype), ['float32']);
    assert.equal(p.params, floatElements);
    assert.equal(p.params, facts.onnx.initializers.elements);
    // Weights are what the file stores: initializers and Constant values (shape and scalar data too).
    assert.equal(p.totals.weightBytes, facts.onnx.initializers.bytes + facts.onnx.constantNodes.bytes);
    assert.equal(p.unknownTensors, 0, p.warnings.join('\n'));
    const placed = p.lines.reduce((a, l) => a + l.nodes.length, 0);
    assert.equal(placed, facts.onnx.nodes);
    for (const l of p.lines) assert.ok(l.line !== null || l.scope !== '', `nodes ${l.nodes.slice(0, 3).join(', ')} have neither a line nor a scope`);
  });

  test(`${name}: training with AdamW: gradients = trainable weight bytes (and a kept cat gradient), optimizer state = 2x in fp32`, () => {
    const facts = readFixtureFacts(name);
    const p = profile(name, { mode: 'train', batch: 2, optimizer: 'adamw' });
    assert.equal(p.trainableParams, facts.onnx.initializers.elements);
    assert.equal(p.totals.gradientBytes, facts.onnx.initializers.bytes + (KEPT_CAT_GRADIENT[name] ?? 0));
    assert.equal(p.totals.optimizerStateBytes, 2 * facts.onnx.initializers.bytes);
    assert.ok(p.totals.savedActivationBytes > 0);
    assert.ok(p.peak.bytes > 4 * facts.onnx.initializers.bytes, 'weights + grads + m + v at least');
    assert.deepEqual([...new Set(p.timeline.map((t) => t.phase))], ['forward', 'backward', 'optimizer']);
  });
}

for (const name of npmModelNames) {
  test(`${name} (paddle2onnx, weights in Constant nodes): weights counted, shapes bound with --dim`, () => {
    const facts = readFixtureFacts(name);
    const dims: Record<string, number> = {};
    for (const input of facts.onnx.inputs) {
      input.shape.forEach((d, i) => {
        if (typeof d === 'string') dims[d] = i === 0 ? 1 : name === 'ppocr_v4_det' ? 640 : i === 2 ? 48 : 320;
      });
    }
    const p = profile(name, { mode: 'infer', dims });
    // Every Constant value is stored and held: weights, scalars and shapes alike.
    assert.equal(p.totals.weightBytes, facts.onnx.constantNodes.bytes);
    assert.equal(p.unknownTensors, 0, p.warnings.join('\n'));
  });
}
