// The issues' acceptance commands, run as a user runs them: the real CLI on the bundled samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Profile } from '../../../extension/engine/profile';
import type { Suggestion } from '../../../extension/engine/suggest/types';

const ROOT = path.resolve(__dirname, '../../../..');
const BIN = path.join(ROOT, 'bin', 'memlens.js');

function memlens(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 180_000, maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('GPT-2 small: 124,439,808 parameters, 75,497,472 KV bytes at 1024 tokens, the attention line runs 12 times', () => {
  const r = memlens('profile', 'samples/gpt2.ts', '--mode', 'infer', '--batch', '1', '--seq', '1024', '--dtype', 'fp32', '--json');
  assert.equal(r.code, 0, r.stderr);
  const p = JSON.parse(r.stdout) as Profile;
  assert.equal(p.params, 124_439_808);
  assert.equal(p.totals.kvCacheBytes, 75_497_472);
  assert.equal(p.unknownTensors, 0);
  const sample = path.join(ROOT, 'samples', 'gpt2.ts');
  assert.ok(p.lines.every((l: { file: string | null }) => l.file === sample), 'every line points into samples/gpt2.ts');
  // The line inside Attention.forward that computes attention, in the loop over 12 blocks.
  const text = fs.readFileSync(sample, 'utf8').split('\n');
  const attnLine = text.findIndex((l) => l.includes('nn.causalAttention(')) + 1;
  const attn = p.lines.find((l) => l.line === attnLine);
  assert.ok(attn, `no figures on line ${attnLine}`);
  assert.equal(attn.repeats, 12);
  assert.ok(attn.kvBytes > 0);
});

test('Llama-3-8B at 2^20 tokens in fp16: KV cache 137,438,953,472 bytes exactly, params within 0.1% of 8,030,261,248', () => {
  const started = Date.now();
  const r = memlens('profile', 'samples/llama.ts', '--entry', 'llama3_8b', '--mode', 'infer', '--batch', '1', '--seq', '1048576', '--dtype', 'fp16', '--json');
  assert.equal(r.code, 0, r.stderr);
  const p = JSON.parse(r.stdout) as Profile;
  assert.equal(p.totals.kvCacheBytes, 137_438_953_472);
  assert.ok(Math.abs(p.params / 8_030_261_248 - 1) < 0.001, `${p.params}`);
  assert.ok(Date.now() - started < 120_000);
});

test('fit GPT-2 training under a budget below its peak: the rewritten file profiles under it and type-checks', () => {
  const settings = ['--mode', 'train', '--batch', '8', '--seq', '1024'];
  const before = JSON.parse(memlens('profile', 'samples/gpt2.ts', ...settings, '--json').stdout) as Profile;
  const budget = Math.floor(before.peak.bytes * 0.7);
  // Written beside the samples so that `memlens/nn` resolves through samples/tsconfig.json.
  const out = path.join(ROOT, 'samples', `.fit-${process.pid}.ts`);
  try {
    const fit = memlens('fit', 'samples/gpt2.ts', ...settings, '--budget', `${budget}B`, '--out', out);
    assert.equal(fit.code, 0, fit.stderr + fit.stdout);
    const after = JSON.parse(memlens('profile', out, ...settings, '--json').stdout) as Profile;
    assert.ok(after.peak.bytes <= budget, `${after.peak.bytes} > ${budget}`);
    assert.equal(after.params, before.params);
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '-p', path.join(ROOT, 'samples', 'tsconfig.json')], { encoding: 'utf8' });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
    // The original is untouched.
    assert.equal(memlens('profile', 'samples/gpt2.ts', ...settings, '--json').stdout.length > 0, true);
  } finally {
    fs.rmSync(out, { force: true });
  }
});

test('a Python training script: figures on the forward lines of the decoder it imports', () => {
  const r = memlens('profile', 'samples/python/train_gpt.py', '--mode', 'train', '--batch', '2', '--seq', '64', '--json');
  assert.equal(r.code, 0, r.stderr);
  const p = JSON.parse(r.stdout) as Profile;
  assert.equal(p.unknownTensors, 0, p.warnings.join('\n'));
  const decoder = p.lines.filter((l: { file: string | null }) => l.file?.endsWith(path.join('samples', 'python', 'gpt_decoder.py')));
  assert.ok(decoder.length > 5);
  assert.ok(decoder.some((l: { savedBytes: number }) => l.savedBytes > 0), 'saved activations attributed to forward lines');
  assert.equal(p.totals.gradientBytes, p.trainableParams * 4);
});

test('no model in a TypeScript file: one clear line, exit 2', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-empty-'));
  const file = path.join(dir, 'empty.ts');
  fs.writeFileSync(file, 'export const x = 1;\n');
  const r = memlens('profile', file);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /no model entry found in .*empty\.ts/);
});

test('suggest on a real model with stored weights (ResNet-18): ranked suggestions, no crash', () => {
  const r = memlens('suggest', 'test/fixtures/models/resnet18.onnx', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Suggestion[] | { suggestions: Suggestion[] };
  const list = Array.isArray(out) ? out : out.suggestions;
  assert.ok(Array.isArray(list) && list.length > 0, r.stdout.slice(0, 500));
});
