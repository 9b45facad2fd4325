// package.json's `memlens.*` settings against the code that reads them: the enums are the code's
// value lists, the defaults are the code's defaults, and every enum value reads without a problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEVICES, MODES, OPTIMIZERS, PRECISIONS, TRAIN_STEPS, ZERO_GRADS } from '../../../extension/engine/settings';
import { parseCli } from '../../../extension/cli/args';
import { INLINE_DETAILS } from '../../../extension/presentation/line-figures';
import { EXECUTION_PROVIDERS, readSettings } from '../../../extension/presentation/settings';
import { PROVIDER_CHOICES } from '../../../extension/runner/types';
import { repoRoot } from '../../fixtures/repo-root';

interface ManifestSetting {
  type: string;
  enum?: string[];
  enumDescriptions?: string[];
  default?: unknown;
}

function manifestSettings(): Record<string, ManifestSetting> {
  const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    contributes: { configuration: { properties: Record<string, ManifestSetting> } };
  };
  const out: Record<string, ManifestSetting> = {};
  for (const [key, value] of Object.entries(manifest.contributes.configuration.properties)) {
    assert.ok(key.startsWith('memlens.'), `${key} is not prefixed memlens.`);
    out[key.slice('memlens.'.length)] = value;
  }
  return out;
}

test('manifest enums are the value lists the CLI and the settings reader use', () => {
  const s = manifestSettings();
  assert.deepEqual(s.mode.enum, [...MODES]);
  assert.deepEqual(s.dtype.enum, [...PRECISIONS]);
  assert.deepEqual(s.optimizer.enum, [...OPTIMIZERS]);
  assert.deepEqual(s.device.enum, [...DEVICES]);
  assert.deepEqual(s.step.enum, [...TRAIN_STEPS]);
  assert.deepEqual(s.zeroGrad.enum, [...ZERO_GRADS]);
  assert.deepEqual(s.executionProvider.enum, [...EXECUTION_PROVIDERS]);
  assert.deepEqual(s.inlineDetail.enum, [...INLINE_DETAILS]);
  for (const ep of EXECUTION_PROVIDERS) assert.ok(PROVIDER_CHOICES.includes(ep), `${ep} is not a provider the runner knows`);
  for (const [key, setting] of Object.entries(s)) {
    if (setting.enumDescriptions) assert.equal(setting.enumDescriptions.length, setting.enum?.length, `${key}: one description per value`);
  }
});

test('manifest defaults are the defaults the settings reader falls back to', () => {
  const defaults = Object.fromEntries(Object.entries(manifestSettings()).map(([key, setting]) => [key, setting.default]));
  const read = readSettings(defaults);
  assert.deepEqual(read.problems, []);
  assert.deepEqual(read, readSettings({}));
});

test('every enum value of the manifest reads without a problem, and a value outside it is reported', () => {
  for (const [key, setting] of Object.entries(manifestSettings())) {
    if (!setting.enum) continue;
    for (const value of setting.enum) assert.deepEqual(readSettings({ [key]: value }).problems, [], `${key}=${value}`);
    assert.equal(readSettings({ [key]: 'not-a-value' }).problems.length, 1, `${key} takes a value outside its enum`);
  }
});

test('the training step settings read as the CLI flags of the same names: --device, --step, --zero-grad', () => {
  for (const device of DEVICES) for (const step of TRAIN_STEPS) for (const zeroGrad of ZERO_GRADS) {
    const editor = readSettings({ mode: 'train', device, step, zeroGrad });
    assert.deepEqual(editor.problems, []);
    const cli = parseCli(['profile', 'm.py', '--mode', 'train', '--device', device, '--step', step, '--zero-grad', zeroGrad]).settings;
    assert.deepEqual([editor.analysis.device, editor.analysis.step, editor.analysis.zeroGrad], [cli.device, cli.step, cli.zeroGrad]);
  }
  // Unset, each is what the engine takes for an absent value (buffers.ts: cuda, steady, set-to-none).
  const unset = readSettings({}).analysis;
  assert.deepEqual([unset.device, unset.step, unset.zeroGrad], ['cuda', 'steady', 'set-to-none']);
  assert.match(readSettings({ zeroGrad: 'keep' }).problems.join('\n'), /memlens\.zeroGrad: expected one of set-to-none, zero, got "keep"/);
});
