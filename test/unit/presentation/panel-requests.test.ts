// The host's guard on webview messages, fed hostile payloads: every one is refused with one line
// that names the field, and nothing it names is used.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { checkRevealTarget, checkSettings, parseRequest, referencedFiles } from '../../../extension/presentation/panel-requests';
import { settingSchemas } from '../../../extension/presentation/setting-controls';
import { repoRoot } from '../../fixtures/repo-root';
import { MLP_FILE, mlpProfile } from './fixtures';

const schemas = settingSchemas(JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')));
const good = { mode: 'train', batch: 4, seq: 256, dtype: 'bf16', optimizer: 'sgd' };
const request = (method: string, params: unknown, id: unknown = 7) => ({ kind: 'request', id, method, params });

function refusedWith(value: unknown, pattern: RegExp): void {
  const r = parseRequest(value, schemas);
  assert.equal(r.ok, false, `accepted ${JSON.stringify(value)}`);
  if (r.ok) return;
  assert.match(r.reason, pattern);
  assert.ok(!r.reason.includes('\n') && r.reason.length <= 300, r.reason);
}

test('well-formed requests pass with their typed parameters', () => {
  const r = parseRequest(request('applySettings', { settings: good }), schemas);
  assert.deepEqual(r, { ok: true, request: { kind: 'request', id: 7, method: 'applySettings', params: { settings: good } } });
  assert.equal(parseRequest(request('ready', {}), schemas).ok, true);
  assert.equal(parseRequest(request('reveal', { source: { file: MLP_FILE, line: 12 } }), schemas).ok, true);
  assert.equal(parseRequest(request('measure', {}), schemas).ok, true);
  assert.equal(parseRequest(request('hideComparison', {}), schemas).ok, true);
});

test('settings outside the manifest schema are refused: mode evil, batch 1e300 and the rest', () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ ...good, mode: 'evil' }, /memlens\.mode: expected one of infer, train, got "evil"/],
    [{ ...good, batch: 1e300 }, /memlens\.batch: expected a whole number from 1 to 16777216, got 1e\+300/],
    [{ ...good, batch: 1.5 }, /memlens\.batch/],
    [{ ...good, batch: '4' }, /memlens\.batch.*got "4"/],
    [{ ...good, batch: -1 }, /memlens\.batch/],
    [{ ...good, batch: 0 }, /memlens\.batch/],
    [{ ...good, batch: Number.NaN }, /memlens\.batch/],
    [{ ...good, seq: Number.POSITIVE_INFINITY }, /memlens\.sequenceLength/],
    [{ ...good, seq: 2 ** 24 + 1 }, /memlens\.sequenceLength/],
    [{ ...good, dtype: 'fp64' }, /memlens\.dtype: expected one of fp32, fp16, bf16/],
    [{ ...good, optimizer: { toString: 'adamw' } }, /memlens\.optimizer/],
    [{ ...good, dtype: ['fp32'] }, /memlens\.dtype/],
  ];
  for (const [settings, pattern] of bad) refusedWith(request('applySettings', { settings }), pattern);
  const { optimizer: _missing, ...withoutOptimizer } = good;
  refusedWith(request('applySettings', { settings: withoutOptimizer }), /missing field "optimizer"/);
  refusedWith(request('applySettings', { settings: { ...good, dims: { batch: 1 } } }), /unexpected field "dims"/);
  refusedWith(request('applySettings', { settings: JSON.parse(`{"__proto__": {"mode": "evil"}, ${JSON.stringify(good).slice(1)}`) as unknown }), /unexpected field "__proto__"/);
  refusedWith(request('applySettings', { settings: [good] }), /settings: expected an object/);
  refusedWith(request('applySettings', { settings: null }), /settings: expected an object/);
  assert.equal(checkSettings(good, schemas).ok, true);
});

test('malformed envelopes: kind, id, method, params', () => {
  refusedWith(null, /not a request/);
  refusedWith('reveal', /not a request/);
  refusedWith({ ...request('ready', {}), kind: 'response' }, /kind "response"/);
  refusedWith(request('ready', {}, -1), /valid id/);
  refusedWith(request('ready', {}, 1.5), /valid id/);
  refusedWith(request('ready', {}, '7'), /valid id/);
  refusedWith(request('eval', {}), /unknown request "eval"/);
  refusedWith(request('toString', {}), /unknown request/);
  refusedWith(request('ready', null), /params must be an object/);
  refusedWith(request('ready', { restored: { huge: 'state' } }), /unexpected field "restored"/);
  refusedWith({ ...request('ready', {}), extra: 1 }, /unexpected field "extra"/);
  // A refusal with an id and a method is answered; without them it cannot be.
  const r = parseRequest(request('measure', { ep: 'cuda' }), schemas);
  assert.ok(!r.ok && r.id === 7 && r.method === 'measure');
  const anonymous = parseRequest({ kind: 'request', method: 'measure', params: {} }, schemas);
  assert.ok(!anonymous.ok && anonymous.id === null);
});

test('reveal payloads: absolute paths and whole lines only', () => {
  refusedWith(request('reveal', { source: { file: '../../etc/passwd', line: 1 } }), /absolute path/);
  refusedWith(request('reveal', { source: { file: `${MLP_FILE}\0.png`, line: 1 } }), /absolute path/);
  refusedWith(request('reveal', { source: { file: `/${'a'.repeat(5000)}`, line: 1 } }), /absolute path, got "\/a+\.\.\.$/);
  refusedWith(request('reveal', { source: { file: 42, line: 1 } }), /absolute path/);
  for (const line of [0, -3, 1.5, '12', Number.NaN, 2 ** 53]) {
    refusedWith(request('reveal', { source: { file: MLP_FILE, line } }), /the line must be a whole number/);
  }
  refusedWith(request('reveal', { source: { file: MLP_FILE, line: 2, label: 'x' } }), /unexpected field "label"/);
  refusedWith(request('reveal', { source: 'mlp.ts:12' }), /expected a source/);
});

test('only files the shown profile references can be opened', () => {
  const profile = mlpProfile();
  assert.deepEqual(referencedFiles(profile), [MLP_FILE]);
  assert.deepEqual(checkRevealTarget({ file: MLP_FILE, line: 11 }, profile), { ok: true, value: { file: MLP_FILE, line: 11 } });
  // The same file named another way opens the profile's own path.
  assert.deepEqual(checkRevealTarget({ file: '/ws/sub/../mlp.ts', line: 11 }, profile), { ok: true, value: { file: MLP_FILE, line: 11 } });
  for (const file of ['/etc/passwd', '/ws/mlp.ts.bak', '/ws/other.ts', `${process.env.HOME ?? '/root'}/.ssh/id_rsa`]) {
    const r = checkRevealTarget({ file, line: 1 }, profile);
    assert.equal(r.ok, false, file);
    if (!r.ok) assert.match(r.reason, /is not a file of the shown profile/);
  }
  const none = checkRevealTarget({ file: MLP_FILE, line: 1 }, undefined);
  assert.equal(none.ok, false);
});
