// package.json's `memlens.*` settings against the code that reads them: the enums are the code's
// value lists, the defaults are the code's defaults, and every enum value reads without a problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MODES, OPTIMIZERS, PRECISIONS } from '../../../extension/engine/settings';
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
