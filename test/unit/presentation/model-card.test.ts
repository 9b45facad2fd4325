// The model card: inputs and outputs with their dims, the setting each symbolic dim follows, and
// whether the model has a batch or sequence dimension at all.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modelCard } from '../../../extension/analysis/model-card';
import { withDefaults } from '../../../extension/engine/settings';
import { modelCardView } from '../../../extension/presentation/model-card-view';
import { analysedSettings } from '../../../extension/presentation/timeline-state';
import { GraphBuilder } from '../../fixtures/graph-builder';
import { mlpProfile } from './fixtures';

function textModel() {
  const b = new GraphBuilder();
  const ids = b.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const past = b.input('past', 'float32', ['batch_size', 12, 'past_sequence_length', 64]);
  const e = b.one('Gather', [b.weight('wte', [50257, 768]), ids], { name: 'embed' });
  b.one('Identity', [past], { name: 'keep', outputs: ['present'] });
  b.one('Identity', [e], { name: 'out', outputs: ['hidden'] });
  b.output('hidden', 'float32', ['batch_size', 'sequence_length', 768]);
  b.output('present', 'float32', ['batch_size', 12, 'past_sequence_length', null]);
  return b.model(17);
}

test('a text model: dims follow batch and sequence, bound to the settings', () => {
  const card = modelCard(textModel(), withDefaults({ batch: 3, seq: 40 }), 1234);
  assert.deepEqual(card.uses, { batch: true, sequence: true });
  assert.deepEqual(card.inputs[0], {
    name: 'input_ids', dtype: 'int64', dims: [
      { kind: 'symbolic', name: 'batch_size', follows: 'batch', bound: 3 },
      { kind: 'symbolic', name: 'sequence_length', follows: 'sequence', bound: 40 },
    ],
  });
  assert.deepEqual(card.outputs[1].dims?.[3], { kind: 'unknown' });
  assert.deepEqual(card.opsets, [{ domain: '', version: 17 }]);
  assert.equal(card.nodeCount, 3);
  const view = modelCardView(card);
  assert.deepEqual(view.inputs[1].dims, ['batch_size=3', '12', 'past_sequence_length=40', '64']);
  assert.deepEqual(view.outputs[1].dims, ['batch_size=3', '12', 'past_sequence_length=40', '?']);
  assert.equal(view.opsets, 'ai.onnx 17');
  assert.equal(view.fileSize, '1.2 KiB (1,234 bytes)');
});

test('an image model has no sequence dim; a dim set by --dim follows no setting', () => {
  const b = new GraphBuilder();
  const x = b.input('pixels', 'float32', ['N', 3, 'height', 'width']);
  b.one('Relu', [x], { name: 'r', outputs: ['y'] });
  b.output('y', 'float32', ['N', 3, 'height', 'width']);
  const card = modelCard(b.model(), withDefaults({ dims: { height: 224, width: 224 } }), null);
  assert.deepEqual(card.uses, { batch: true, sequence: false });
  assert.deepEqual(card.inputs[0].dims?.[2], { kind: 'symbolic', name: 'height', follows: null, bound: 224 });
  assert.equal(modelCardView(card).fileSize, null);
});

test('a fixed-shape model has neither, and the header leaves them out', () => {
  const card = modelCard((() => {
    const b = new GraphBuilder();
    b.one('Relu', [b.input('x', 'float32', [2, 8])], { name: 'r', outputs: ['y'] });
    b.output('y', 'float32', [2, 8]);
    return b.model();
  })(), withDefaults({ batch: 4 }), 10);
  assert.deepEqual(card.uses, { batch: false, sequence: false });
  assert.deepEqual(analysedSettings(mlpProfile({ batch: 4 }), card), { mode: 'infer', batch: null, seq: null, dtype: 'fp32', optimizer: null });
  assert.deepEqual(analysedSettings(mlpProfile({ mode: 'train' }), null), { mode: 'train', batch: 1, seq: 128, dtype: 'fp32', optimizer: 'adamw' });
});
