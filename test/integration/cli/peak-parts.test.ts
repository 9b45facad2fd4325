// What a figure at the peak is made of, as the CLI prints it: the optimizer update's temporaries
// by name (not "other"), on the lines of the parameters they copy, and each line's parts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { CATEGORIES, type Profile } from '../../../extension/engine/profile';

const ROOT = path.resolve(__dirname, '../../../..');
const BIN = path.join(ROOT, 'bin', 'memlens.js');

function memlens(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, cwd: ROOT });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const GPT2_PARAMS = 124_439_808;

test('GPT-2 training: the AdamW step\'s temporaries are named, sized by the update, and tied to lines', () => {
  const p = JSON.parse(memlens('profile', 'samples/gpt2-train.ts', '--json')) as Profile;
  // torch 2.x _multi_tensor_adamw: _foreach_sqrt(exp_avg_sq) makes one fp32 copy of every parameter.
  assert.equal(p.breakdown.optimizerStep, GPT2_PARAMS * 4);
  assert.ok(p.breakdown.other < 1024, `"other" holds ${p.breakdown.other} B`);
  const onLines = p.lines.reduce((a, l) => a + l.peakByCategory.optimizerStep, 0);
  assert.equal(onLines, GPT2_PARAMS * 4, 'every temporary is on the line of the parameter it copies');
  const table = memlens('profile', 'samples/gpt2-train.ts');
  assert.match(table, /^ {2}optimizer step temporaries +474\.7 MiB +20\.0%$/m);
  assert.doesNotMatch(table, /^ {2}other +[\d.]+ [KMG]i?B /m);
});

test('each line\'s figure at the peak is the sum of its named parts, and the table names them', () => {
  const p = JSON.parse(memlens('profile', 'samples/resnet.ts', '--json')) as Profile;
  for (const l of p.lines) assert.equal(CATEGORIES.reduce((a, c) => a + l.peakByCategory[c], 0), l.peakBytes, `${l.line}`);
  // samples/resnet.ts:38 runs conv2 (3x3, no bias) and bn2 (4 vectors) in 16 bottlenecks of widths
  // 64/128/256/512 ([3, 4, 6, 3] blocks): all its weights are live at an inference peak.
  const weights = [[3, 64], [4, 128], [6, 256], [3, 512]].reduce((a, [n, w]) => a + n * (9 * w * w + 4 * w), 0) * 4;
  const line38 = p.lines.find((l) => l.line === 38)!;
  assert.equal(line38.peakByCategory.weights, weights);
  const table = memlens('profile', 'samples/resnet.ts');
  assert.match(table, /samples\/resnet\.ts:38 .*\n {10}of which weights 43\.2 MiB\n/);
});
