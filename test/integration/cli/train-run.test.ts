// A training estimate is never compared with an ONNX Runtime run, which runs inference only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { GraphBuilder } from '../../fixtures/graph-builder';

const ROOT = path.resolve(__dirname, '../../../..');
const BIN = path.join(ROOT, 'bin', 'memlens.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-train-run-'));

function memlens(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tinyModel(): string {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['batch', 64]);
  b.one('Gemm', [x, b.weight('w', [64, 64])], { name: '/fc/Gemm', outputs: ['y'] });
  b.output('y', 'float32', ['batch', 64]);
  const file = path.join(tmp, 'tiny.onnx');
  fs.writeFileSync(file, encodeModel(b.model(17)));
  return file;
}

test('--mode train --run on an .onnx model: one line refusing the comparison, exit 2, nothing compared', () => {
  const r = memlens('profile', tinyModel(), '--mode', 'train', '--batch', '2', '--run');
  assert.equal(r.code, 2, r.stdout);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /tiny\.onnx: the estimate is for a training step and ONNX Runtime runs inference only, so they are not compared; use --mode infer with --run/);
  assert.ok(r.stderr.length <= 300, r.stderr);
});

test('a TypeScript entry that declares training, run on ONNX Runtime: refused the same way', () => {
  const r = memlens('profile', 'samples/gpt2-train.ts', '--run');
  assert.equal(r.code, 2, r.stdout);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^memlens: samples\/gpt2-train\.ts: the estimate is for a training step and ONNX Runtime runs inference only/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('the same model in inference is still compared with its run', () => {
  const r = memlens('profile', tinyModel(), '--mode', 'infer', '--batch', '2', '--run');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /peak on cpu \(optimisations disabled\): estimated .* measured /);
});
