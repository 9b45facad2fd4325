// `memlens fit` end to end through the CLI process: an .onnx model is rewritten into a NEW file
// that decodes and re-profiles under the budget; `--write` refuses a file changed on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeModel } from '../../../extension/engine/analyze';
import { decodeModel } from '../../../extension/engine/onnx/decode';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { withDefaults } from '../../../extension/engine/settings';
import type { Profile } from '../../../extension/engine/profile';
import type { Plan } from '../../../extension/engine/suggest/planner';
import type { Suggestion } from '../../../extension/engine/suggest/types';
import { writeInPlace } from '../../../extension/analysis/write-file';
import { tinyDecoder } from '../../fixtures/layered-models';

const CLI = path.join(__dirname, '../../../extension/cli/main.js');

/** What `memlens fit --json` prints. */
type PlanJson = Plan & { schema: string; written: { path: string; unmapped: string[] } | null };

test('fit --out writes a new .onnx that decodes and profiles under the budget; the input is untouched', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-fit-'));
  const input = path.join(dir, 'decoder.onnx');
  const out = path.join(dir, 'decoder.fit.onnx');
  fs.writeFileSync(input, encodeModel(tinyDecoder({ layers: 3, batch: 2, seq: 64, hidden: 32, heads: 4, vocab: 2048 })));
  const before = fs.readFileSync(input);
  const settings = withDefaults({ mode: 'train' });
  const basePeak = analyzeModel(decodeModel(before, input), settings, { source: input, entry: null }).peak.bytes;
  const budget = Math.floor(basePeak * 0.75);
  const r = spawnSync(process.execPath, [CLI, 'fit', input, '--mode', 'train', '--budget', `${budget}B`, '--out', out, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const plan = JSON.parse(r.stdout) as PlanJson;
  assert.equal(plan.fits, true);
  assert.equal(plan.written?.path, out);
  assert.deepEqual(fs.readFileSync(input), before, 'the input file is never overwritten');
  const rewritten = decodeModel(fs.readFileSync(out), out);
  const after = analyzeModel(rewritten, settings, { source: out, entry: null });
  assert.ok(after.peak.bytes <= budget, `${after.peak.bytes} > ${budget}`);
  assert.equal(after.peak.bytes, plan.chosen.verifiedPeakBytes);
  // Human output lists the plan and the frontier.
  const text = execFileSync(process.execPath, [CLI, 'fit', input, '--mode', 'train', '--budget', `${budget}B`], { encoding: 'utf8' });
  assert.match(text, /^fits: peak .* within /);
  assert.match(text, /frontier \(peak · recompute · accuracy\)/);
});

test('fit on .onnx with --write is refused (no overwriting), and an unreachable budget exits 3', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-fit-'));
  const input = path.join(dir, 'decoder.onnx');
  fs.writeFileSync(input, encodeModel(tinyDecoder({ layers: 1, batch: 1, seq: 8, hidden: 16, heads: 2, vocab: 64 })));
  const w = spawnSync(process.execPath, [CLI, 'fit', input, '--budget', '1KiB', '--write'], { encoding: 'utf8' });
  assert.equal(w.status, 2);
  assert.equal(w.stderr.trim(), 'memlens: fit: .onnx models are never overwritten; use --out PATH');
  const low = spawnSync(process.execPath, [CLI, 'fit', input, '--budget', '1KiB'], { encoding: 'utf8' });
  assert.equal(low.status, 3);
  assert.match(low.stdout, /cannot be met with these rewrites: the lowest reachable peak is/);
});

test('fit --out onto its input, or onto an existing file without --force, is refused before any work', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-fit-'));
  const input = path.join(dir, 'decoder.onnx');
  fs.writeFileSync(input, encodeModel(tinyDecoder({ layers: 1, batch: 1, seq: 8, hidden: 16, heads: 2, vocab: 64 })));
  const before = fs.readFileSync(input);
  fs.linkSync(input, path.join(dir, 'hard.onnx'));
  fs.symlinkSync(input, path.join(dir, 'soft.onnx'));
  for (const out of [input, path.join(dir, '.', 'decoder.onnx'), path.join(dir, 'hard.onnx'), path.join(dir, 'soft.onnx')]) {
    // 1 KiB cannot be met: before the fix the int4 copy was written over the input and fit exited 3.
    const r = spawnSync(process.execPath, [CLI, 'fit', input, '--budget', '1KiB', '--out', out, '--force'], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stdout);
    assert.equal(r.stdout, '', 'refused before any analysis');
    assert.equal(r.stderr.trim(), `memlens: ${out}: is the model being read; an input is never overwritten (choose another --out)`);
    assert.deepEqual(fs.readFileSync(input), before);
  }
  const other = path.join(dir, 'other.onnx');
  fs.writeFileSync(other, 'keep me');
  const r = spawnSync(process.execPath, [CLI, 'fit', input, '--budget', '1KiB', '--out', other], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim(), `memlens: ${other}: already exists; not replaced (pass --force to replace it)`);
  assert.equal(fs.readFileSync(other, 'utf8'), 'keep me');
  fs.chmodSync(other, 0o640);
  const forced = spawnSync(process.execPath, [CLI, 'fit', input, '--budget', '1KiB', '--out', other, '--force'], { encoding: 'utf8' });
  assert.equal(forced.status, 3, forced.stderr);
  assert.equal(decodeModel(fs.readFileSync(other), other).graph.nodes.length > 0, true);
  assert.equal(fs.statSync(other).mode & 0o777, 0o640, 'replaced in place: the mode stays');
});

test('suggest prints ranked suggestions with saving and cost', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-suggest-'));
  const input = path.join(dir, 'decoder.onnx');
  fs.writeFileSync(input, encodeModel(tinyDecoder({ layers: 2, batch: 2, seq: 64, hidden: 32, heads: 4, vocab: 1024 })));
  const r = spawnSync(process.execPath, [CLI, 'suggest', input, '--mode', 'train', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout) as { schema: string; suggestions: Suggestion[] };
  assert.equal(json.schema, 'memlens.suggestions/1');
  const ids = json.suggestions.map((s: { id: string }) => s.id);
  assert.ok(ids.includes('checkpoint:h') && ids.includes('fused-attention') && ids.includes('chunked-loss:/lm_head/MatMul'), ids.join(', '));
  for (const s of json.suggestions) assert.ok(typeof s.predicted.savingBytes === 'number' && s.title.includes('peak'));
});

test('--write refuses when the file changed on disk after it was read, and keeps the user\'s text', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-write-'));
  const file = path.join(dir, 'model.ts');
  fs.writeFileSync(file, 'export const a = 1;\n');
  const original = fs.readFileSync(file);
  fs.writeFileSync(file, 'export const a = 2; // edited meanwhile\n');
  await assert.rejects(writeInPlace(file, original, 'rewritten'), /changed on disk since it was read; not written/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'export const a = 2; // edited meanwhile\n');
  const now = fs.readFileSync(file);
  await writeInPlace(file, now, 'rewritten\n');
  assert.equal(fs.readFileSync(file, 'utf8'), 'rewritten\n');
  assert.deepEqual(fs.readdirSync(dir), ['model.ts'], 'no temp file left behind');
});

test('fit --out on a PyTorch model checkpoints only the layers the budget needs; the copy re-profiles there and trains the same', () => {
  const samples = path.resolve(__dirname, '../../../../samples/python');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-fit-py-'));
  const out = path.join(dir, 'gpt_decoder.py');
  // 4 blocks; at batch 8 the training peak is the backward of the LM head (172.1 MiB as written),
  // and 150 MiB needs two blocks checkpointed (one gives 155.1 MiB). At the script's own batch of 2
  // the peak is the AdamW update, which no checkpointing lowers.
  const r = spawnSync(process.execPath, [CLI, 'fit', path.join(samples, 'gpt_decoder.py'), '--mode', 'train', '--batch', '8', '--budget', '150MiB', '--out', out, '--json', '--python', '/usr/bin/python3'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const plan = JSON.parse(r.stdout) as PlanJson;
  assert.deepEqual(plan.chosen.checkpointed, ['blocks.0', 'blocks.1']);
  assert.deepEqual(plan.written?.unmapped, []);
  const text = fs.readFileSync(out, 'utf8');
  assert.match(text, /for i, block in enumerate\(self\.blocks\):\n\s+x = torch\.utils\.checkpoint\.checkpoint\(block, x, use_reentrant=False\) if i < 2 else block\(x\)/);
  const again = spawnSync(process.execPath, [CLI, 'profile', out, '--mode', 'train', '--batch', '8', '--json', '--python', '/usr/bin/python3'], { encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.equal((JSON.parse(again.stdout) as Profile).peak.bytes, plan.chosen.verifiedPeakBytes);
  // Same weights, same batch: the checkpointed copy gives the same loss and gradients.
  fs.copyFileSync(path.join(samples, 'gpt_decoder.py'), path.join(dir, 'gpt_base.py'));
  const check = [
    'import torch, gpt_base, gpt_decoder',
    'torch.manual_seed(0)',
    'a = gpt_base.GPT(); b = gpt_decoder.GPT(); b.load_state_dict(a.state_dict()); a.train(); b.train()',
    'idx = torch.randint(0, 4096, (2, 32))',
    'la = a(idx).square().mean(); lb = b(idx).square().mean(); la.backward(); lb.backward()',
    'print(torch.equal(la, lb), all(torch.allclose(p.grad, q.grad) for p, q in zip(a.parameters(), b.parameters())))',
  ].join('\n');
  const got = execFileSync('/usr/bin/python3', ['-c', check], { cwd: dir, encoding: 'utf8' }).trim();
  assert.equal(got, 'True True');
});

test('fit --write on a latin-1, CRLF Python model keeps every byte outside the edit; inserted lines end in CRLF', () => {
  const samples = path.resolve(__dirname, '../../../../samples/python');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-fit-latin1-'));
  const file = path.join(dir, 'gpt_decoder.py');
  const lf = fs.readFileSync(path.join(samples, 'gpt_decoder.py'), 'utf8');
  assert.ok(!lf.includes('\r'));
  // A coding line and a comment with é (0xE9, not UTF-8), every line ending in CRLF.
  const text = `# -*- coding: latin-1 -*-\n# caf\u00e9 \u00b1 r\u00e9seau\n${lf}`.replace(/\n/g, '\r\n');
  const original = Buffer.from(text, 'latin1');
  fs.writeFileSync(file, original);
  fs.chmodSync(file, 0o640);
  const r = spawnSync(process.execPath, [CLI, 'fit', file, '--mode', 'train', '--batch', '8', '--budget', '150MiB', '--write', '--json', '--python', '/usr/bin/python3'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const after = fs.readFileSync(file);
  assert.equal(fs.statSync(file).mode & 0o777, 0o640);
  assert.ok(!after.includes(Buffer.from([0xef, 0xbf, 0xbd])), 'no U+FFFD replacement bytes');
  const s = after.toString('latin1');
  assert.ok(s.startsWith('# -*- coding: latin-1 -*-\r\n# caf\u00e9 \u00b1 r\u00e9seau\r\n'));
  assert.match(s, /torch\.utils\.checkpoint\.checkpoint\(block, x, use_reentrant=False\) if i < 2 else block\(x\)/);
  assert.equal(s.replace(/\r\n/g, '').includes('\n'), false, 'every line ends in CRLF');
  // Outside the edits the bytes are the original's: its lines appear in order, byte for byte,
  // except the few the rewrite changed (the loop line).
  const before = original.toString('latin1').split('\r\n'), lines = s.split('\r\n');
  let j = 0, unmatched = 0;
  for (const line of before) {
    const k = lines.indexOf(line, j);
    if (k < 0) unmatched++;
    else j = k + 1;
  }
  assert.ok(unmatched <= 2, `${unmatched} original lines changed`);
  assert.ok(lines.length > before.length, 'the rewrite inserted lines');
});
