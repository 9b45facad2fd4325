// The panel's controls come from the manifest: the Settings UI's titles, values and ranges.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { plainDescription, settingControls, settingSchemas, settingTitle } from '../../../extension/presentation/setting-controls';
import { repoRoot } from '../../fixtures/repo-root';

interface SettingProperty { enum?: unknown[]; minimum?: number; maximum?: number }
const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, SettingProperty> } };
};
const properties = manifest.contributes.configuration.properties;

test('titles as the Settings UI writes them for a key', () => {
  // Titles VS Code shows for its own settings.
  assert.equal(settingTitle('editor.fontSize'), 'Font Size');
  assert.equal(settingTitle('files.autoSave'), 'Auto Save');
  assert.equal(settingTitle('editor.tabSize'), 'Tab Size');
  assert.equal(settingTitle('memlens.sequenceLength'), 'Sequence Length');
  assert.equal(settingTitle('memlens.dtype'), 'Dtype');
});

test('each panel control is the memlens setting of the same name, with its values and range', () => {
  const schemas = settingSchemas(manifest);
  assert.deepEqual(schemas.map((s) => [s.field, s.key, s.title]), [
    ['mode', 'memlens.mode', 'Mode'], ['batch', 'memlens.batch', 'Batch'], ['seq', 'memlens.sequenceLength', 'Sequence Length'],
    ['dtype', 'memlens.dtype', 'Dtype'], ['optimizer', 'memlens.optimizer', 'Optimizer'],
  ]);
  for (const s of schemas) {
    const p = properties[s.key];
    if (s.input.kind === 'enum') assert.deepEqual(s.input.options.map((o) => o.value), p.enum);
    else assert.deepEqual([s.input.min, s.input.max], [p.minimum, p.maximum]);
  }
  assert.equal(schemas[0].description, 'What to profile: infer (inference) or train (one training step with the optimizer in memlens.optimizer).');
  assert.equal(plainDescription('**Run on GPU** uses `cpu`'), 'Run on GPU uses cpu');
});

test('the sequence control is hidden, with the reason, for a model without a sequence dim', () => {
  const schemas = settingSchemas(manifest);
  const values = { mode: 'infer', batch: 2, seq: 128, dtype: 'fp16', optimizer: 'adamw' } as const;
  const image = settingControls(schemas, values, { batch: true, sequence: false });
  assert.deepEqual(image.filter((c) => c.hiddenBecause !== null).map((c) => c.field), ['seq']);
  assert.equal(image.find((c) => c.field === 'batch')!.value, 2);
  const fixed = settingControls(schemas, values, { batch: false, sequence: false });
  assert.deepEqual(fixed.filter((c) => c.hiddenBecause !== null).map((c) => c.field), ['batch', 'seq']);
});

test('a manifest without the settings is a clear error', () => {
  assert.throws(() => settingSchemas({}), /no contributes\.configuration\.properties/);
  assert.throws(() => settingSchemas({ contributes: { configuration: { properties: {} } } }), /no setting memlens\.mode/);
});
