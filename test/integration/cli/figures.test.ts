// The CLI's figures as a user reads them: a decode step's cache lengths and KV figures, per-call
// and total for lines that run ×N, trivial figures hidden below a threshold, which setting sized
// a Python model, a Python copy written to another folder that still imports its neighbours,
// and installs without npm warnings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Profile } from '../../../extension/engine/profile';
import { analyzeModel } from '../../../extension/engine/analyze';
import { withDefaults } from '../../../extension/engine/settings';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { formatBytes } from '../../../extension/engine/units';
import { traceFile } from '../../../language/typescript/trace';
import { feedsFor } from '../language-ts/run-model';

const ROOT = path.resolve(__dirname, '../../../..');
const BIN = path.join(ROOT, 'bin', 'memlens.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-figures-'));

function memlens(args: string[], cwd = ROOT) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 180_000, cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function profileJson(...args: string[]): Profile {
  const r = memlens(['profile', ...args, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Profile;
}

// GPT-2 small (Radford et al. 2019): 12 layers, 12 heads of 64; KV = 2·L·H·d·T·B·4 B in fp32.
const gpt2Kv = (positions: number) => 2 * 12 * 768 * positions * 4;

test('decode: --past sizes the cache read in, --seq the new tokens; the KV at the peak is within the KV totals', () => {
  const p = profileJson('samples/gpt2.ts', '--entry', 'gpt2Decode', '--seq', '1', '--past', '300');
  assert.equal(p.settings.past, 300);
  assert.equal(p.settings.seq, 1);
  assert.equal(p.settings.sized?.past, true);
  assert.equal(p.settings.dims.past_sequence, 300);
  assert.equal(p.totals.kvPastBytes, gpt2Kv(300));
  assert.equal(p.totals.kvCacheBytes, gpt2Kv(301));
  assert.ok(p.breakdown.kvCache <= p.totals.kvCacheBytes + p.totals.kvPastBytes, `${p.breakdown.kvCache} at the peak`);
  assert.ok(!p.warnings.some((w) => /past_sequence/.test(w)), p.warnings.join('\n'));
  const table = memlens(['profile', 'samples/gpt2.ts', '--entry', 'gpt2Decode', '--seq', '1', '--past', '300']).stdout;
  assert.match(table, /^MemLens · samples\/gpt2\.ts · gpt2Decode · inference · batch 1 · seq 1 · past 300 · fp32$/m);
  assert.ok(table.includes(`KV cache ${formatBytes(gpt2Kv(300) + gpt2Kv(301))} held in the step: past ${formatBytes(gpt2Kv(300))} read + present ${formatBytes(gpt2Kv(301))} written`), table);
});

test('decode without --past: the cache takes the sequence length and says how to set it; the KV figures still agree', () => {
  const p = profileJson('samples/gpt2.ts', '--entry', 'gpt2Decode');
  assert.ok(p.warnings.some((w) => /'past_sequence' .* is 128, the sequence length, as no past length is set; set --past N/.test(w)), p.warnings.join('\n'));
  assert.ok(p.breakdown.kvCache <= p.totals.kvCacheBytes + (p.totals.kvPastBytes ?? 0), `${p.breakdown.kvCache} at the peak against ${JSON.stringify(p.totals)}`);
  // A model with no cache input: --past sizes nothing, and says so.
  const prefill = profileJson('samples/gpt2.ts', '--entry', 'gpt2', '--past', '300');
  assert.ok(prefill.warnings.some((w) => w.startsWith('--past 300 sizes no dimension of this model')), prefill.warnings.join('\n'));
  assert.equal(prefill.settings.past, undefined);
  const bad = memlens(['profile', 'samples/gpt2.ts', '--past', '-1']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim(), "memlens: --past: expected a whole number (0 or more), got '-1'");
});

test('decode KV totals against ONNX Runtime: the past fed in and the present it returns', async () => {
  const r = await traceFile(path.join(ROOT, 'samples', 'gpt2.ts'), 'gpt2Decode', {
    timeoutMs: 120_000, materialize: true, seed: 7, config: { layers: 2, hidden: 64, heads: 4, positions: 64, vocab: 97, eps: 1e-5, dropout: 0, attention: 'explicit' },
  });
  const dims = { batch: 2, sequence: 1, past_sequence: 7 };
  const session = await ort.InferenceSession.create(encodeModel(r.model));
  const feeds = feedsFor(r.model, dims);
  const out = await session.run(feeds);
  const bytesOf = (t: ort.Tensor) => t.dims.reduce((a, d) => a * d, 1) * 4;
  const pastFed = Object.entries(feeds).filter(([n]) => n.startsWith('past_key_values')).reduce((a, [, t]) => a + bytesOf(t), 0);
  const present = Object.entries(out).filter(([n]) => n.startsWith('present')).reduce((a, [, t]) => a + bytesOf(t), 0);
  assert.ok(pastFed > 0 && present > pastFed, `past ${pastFed} B, present ${present} B`);
  const p = analyzeModel(r.model, withDefaults({ batch: 2, seq: 1, past: 7 }), { source: 'gpt2.ts', entry: 'gpt2Decode' });
  assert.equal(p.totals.kvPastBytes, pastFed);
  assert.equal(p.totals.kvCacheBytes, present);
  assert.ok(p.breakdown.kvCache <= pastFed + present);
});

test('lines that run ×N: per call and in total, in the JSON and the table', () => {
  const p = profileJson('samples/gpt2.ts');
  for (const l of p.lines) assert.equal(l.perCallBytes, Math.round(l.bytes / l.repeats), `${l.line}`);
  // samples/gpt2.ts:61 is MLP.c_proj in each of GPT-2 small's 12 blocks: its Gemm writes [128, 768] fp32 per call.
  const proj = p.lines.find((l) => l.line === 61)!;
  assert.equal(proj.repeats, 12);
  assert.equal(proj.ops.Gemm, 12 * 128 * 768 * 4);
  const table = memlens(['profile', 'samples/gpt2.ts']).stdout;
  assert.match(table, /^ +share +at peak +produced +per call +× +line$/m);
  const row = table.split('\n').find((l) => l.includes('samples/gpt2.ts:61'))!;
  assert.match(row, new RegExp(`${formatBytes(proj.bytes)} +${formatBytes(proj.perCallBytes)} +12 +samples/gpt2\\.ts:61`));
});

test('trivial figures are hidden below --hide-below (default 0.1% of the peak); 0 shows them; a bare number is refused', () => {
  const p = profileJson('samples/gpt2.ts');
  const min = p.peak.bytes / 1000;
  const table = memlens(['profile', 'samples/gpt2.ts']).stdout;
  const parts = [...table.matchAll(/^ +of which (.*)$/gm)].flatMap((m) => m[1].split(' · '));
  assert.ok(parts.length > 0);
  for (const part of parts) {
    const bytes = p.lines.flatMap((l) => Object.entries(l.peakByCategory)).find(([, b]) => part.endsWith(formatBytes(b)))?.[1];
    assert.ok(bytes !== undefined && bytes >= min, `'${part}' is under 0.1% of the peak`);
  }
  // Lines whose figure at the peak is under the threshold are counted, not listed.
  const hidden = p.lines.filter((l) => l.peakBytes > 0 && l.peakBytes < min).length;
  assert.ok(hidden > 0);
  assert.match(table, new RegExp(`\\(${hidden} lines under ${formatBytes(min).replace('.', '\\.')} at the peak not shown; --hide-below 0 shows every figure\\)`));
  // The c_proj line's 16 B shape tensors live at the peak appear only when asked for.
  const proj = p.lines.find((l) => l.line === 61)!;
  assert.ok(proj.peakByCategory.other > 0 && proj.peakByCategory.other < 1024);
  const all = memlens(['profile', 'samples/gpt2.ts', '--hide-below', '0']).stdout;
  assert.ok(all.includes(`other ${formatBytes(proj.peakByCategory.other)}`), all);
  assert.ok(!table.includes(`· other ${formatBytes(proj.peakByCategory.other)}`));
  const big = memlens(['profile', 'samples/gpt2.ts', '--hide-below', '100MiB']).stdout;
  assert.equal([...big.matchAll(/samples\/gpt2\.ts:\d+ /g)].length, p.lines.filter((l) => l.peakBytes >= 100 * 2 ** 20).length);
  const bad = memlens(['profile', 'samples/gpt2.ts', '--hide-below', '2']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim(), "memlens: --hide-below: '2' has no unit; write a share of the peak (0.1%) or a size (1MiB)");
});

test('Python: the shape written in the code sizes the figures unless --batch is given, and the header says which', () => {
  const source = fs.readFileSync(path.join(ROOT, 'samples', 'python', 'gpt_decoder.py'), 'utf8');
  const [, batch, seq] = /torch\.randint\(0, \d+, \((\d+), (\d+)\)\)/.exec(source)!.map(Number);
  const asWritten = profileJson('samples/python/gpt_decoder.py');
  assert.equal(asWritten.settings.batch, batch);
  assert.equal(asWritten.settings.seq, seq);
  assert.deepEqual(asWritten.settings.fromCode, ['batch', 'seq']);
  const table = memlens(['profile', 'samples/python/gpt_decoder.py']).stdout;
  assert.match(table, new RegExp(`· inference · batch ${batch} \\(as in the code\\) · seq ${seq} \\(as in the code\\) · fp32$`, 'm'));
  const given = profileJson('samples/python/gpt_decoder.py', '--batch', '1');
  assert.equal(given.settings.batch, 1);
  assert.deepEqual(given.settings.fromCode, ['seq']);
  assert.ok(given.peak.bytes < asWritten.peak.bytes, 'batch 1 is analysed, not the code\'s batch');
  assert.match(memlens(['profile', 'samples/python/gpt_decoder.py', '--batch', '1']).stdout, new RegExp(`· inference · batch 1 · seq ${seq} \\(as in the code\\) · fp32$`, 'm'));
});

test('Python fit --out into another folder: the copy still imports the module next to the original, and runs in PyTorch', () => {
  const out = path.join(tmp, 'elsewhere', 'train_copy.py');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const r = memlens(['fit', 'samples/python/train_gpt.py', '--mode', 'train', '--budget', '40MiB', '--out', out]);
  assert.ok(r.code === 0 || r.code === 3, r.stderr);
  assert.ok(fs.existsSync(out), r.stdout + r.stderr);
  assert.match(r.stdout, /added a sys\.path line so that gpt_decoder still imports from .*samples\/python/);
  const original = fs.readFileSync(path.join(ROOT, 'samples', 'python', 'train_gpt.py'), 'utf8');
  const copy = fs.readFileSync(out, 'utf8');
  // Everything the user wrote is still there, line for line, besides the one added line and the plan's edits.
  assert.ok(copy.includes('from gpt_decoder import GPT, GPTConfig'));
  assert.equal(copy.split('\n').filter((l) => l.startsWith('import sys; sys.path.insert(0, ')).length, 1);
  assert.ok(copy.split('\n').length >= original.split('\n').length + 1);
  // The real interpreter, run from an unrelated folder, imports gpt_decoder and takes its training steps.
  const py = spawnSync('/usr/bin/python3', [out], { encoding: 'utf8', timeout: 180_000, cwd: tmp });
  assert.equal(py.status, 0, py.stderr);
  // And MemLens profiles the copy where it is.
  const again = memlens(['profile', out, '--mode', 'train'], tmp);
  assert.equal(again.code, 0, again.stderr);
});

test('npx memlens and the locked packages: no npm warning, and every package runs on the Node the README names', () => {
  const r = spawnSync('npx', ['--no-install', 'memlens', '--version'], { encoding: 'utf8', timeout: 60_000, cwd: ROOT, env: { ...process.env, npm_config_loglevel: 'warn' } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^memlens \d+\.\d+\.\d+/);
  assert.doesNotMatch(r.stderr, /npm warn|Unknown (project|user|env) config/i);
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  const floor = /^>=(\d+\.\d+)/.exec(pkg.engines.node)![1];
  assert.match(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'), /Node(\.js)? 20/);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const semver = require('semver') as { satisfies(v: string, range: string): boolean };
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string }; dev?: boolean }> };
  const refused = Object.entries(lock.packages).filter(([, p]) => p.engines?.node && !semver.satisfies(`${floor}.0`, p.engines.node)).map(([n, p]) => `${n} ${p.engines!.node}`);
  assert.deepEqual(refused, []);
});
