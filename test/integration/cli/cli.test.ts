// The CLI as a user runs it: a real process, real files, exit codes and one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import type { Profile } from '../../../extension/engine/profile';
import type { chromeTrace } from '../../../extension/analysis/chrome-trace';
import { GraphBuilder } from '../../fixtures/graph-builder';

const ROOT = path.resolve(__dirname, '../../../..');
const BIN = path.join(ROOT, 'bin', 'memlens.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-cli-'));

function memlens(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function writeModel(name: string, build: (b: GraphBuilder) => void, opset = 17): string {
  const b = new GraphBuilder();
  build(b);
  const file = path.join(tmp, name);
  fs.writeFileSync(file, encodeModel(b.model(opset)));
  return file;
}

// [batch, 256] -> Gemm 256x1024 -> Relu -> Gemm 1024x10
const mlp = writeModel('mlp.onnx', (b) => {
  const x = b.input('x', 'float32', ['batch', 256]);
  const h = b.one('Gemm', [x, b.weight('fc1.weight', [1024, 256]), b.weight('fc1.bias', [1024])], { name: '/fc1/Gemm', attrs: { transB: { kind: 'int', value: 1 } } });
  const r = b.one('Relu', [h], { name: '/relu/Relu' });
  b.one('Gemm', [r, b.weight('fc2.weight', [10, 1024]), b.weight('fc2.bias', [10])], { name: '/fc2/Gemm', outputs: ['logits'], attrs: { transB: { kind: 'int', value: 1 } } });
  b.output('logits', 'float32', ['batch', 10]);
});
const PARAMS = 1024 * 256 + 1024 + 10 * 1024 + 10;

test('profile --json follows schema memlens.profile/1 with exact parameter and weight figures', () => {
  const r = memlens('profile', mlp, '--batch', '32', '--json');
  assert.equal(r.code, 0, r.stderr);
  const p = JSON.parse(r.stdout) as Profile;
  assert.equal(p.schema, 'memlens.profile/1');
  assert.equal(p.params, PARAMS);
  assert.equal(p.totals.weightBytes, PARAMS * 4);
  assert.equal(p.settings.batch, 32);
  assert.equal(p.unknownTensors, 0);
  // Peak at fc2: weights + input 32x256 + h/relu 32x1024 (shared buffer) + logits 32x10, all fp32.
  assert.equal(p.peak.bytes, PARAMS * 4 + (32 * 256 + 32 * 1024 + 32 * 10) * 4);
  for (const key of ['weights', 'activations', 'kvCache', 'gradients', 'optimizerState', 'inputs', 'outputs', 'other'] as const) assert.equal(typeof p.breakdown[key], 'number');
  assert.ok(p.lines.every((l: { scope: string; line: number | null }) => l.scope !== '' || l.line !== null), 'every line has a scope or a line');
});

test('the table names the peak and the top lines', () => {
  const r = memlens('profile', mlp, '--batch', '32');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /peak\s+\S+ \S+ during forward at Gemm \/fc2\/Gemm/);
  assert.match(r.stdout, /top lines at the peak/);
  assert.match(r.stdout, /\/fc1/);
});

test('--budget: exit 3 when the peak is over it, 0 when under', () => {
  assert.equal(memlens('profile', mlp, '--budget', '1MiB').code, 3);
  const ok = memlens('profile', mlp, '--budget', '24GiB');
  assert.equal(ok.code, 0);
  assert.match(ok.stdout, /budget\s+24\.0 GiB ok/);
});

test('--trace writes a Chrome trace with one counter per category', () => {
  const out = path.join(tmp, 'trace.json');
  assert.equal(memlens('profile', mlp, '--trace', out).code, 0);
  const trace = JSON.parse(fs.readFileSync(out, 'utf8')) as ReturnType<typeof chromeTrace>;
  const counters = trace.traceEvents.filter((e: { ph: string }) => e.ph === 'C');
  assert.equal(counters.length, 3);
  assert.equal(typeof counters[0].args.weights, 'number');
});

test('training mode: gradients equal trainable weight bytes, AdamW state twice that', () => {
  const r = memlens('profile', mlp, '--mode', 'train', '--batch', '8', '--json');
  assert.equal(r.code, 0, r.stderr);
  const p = JSON.parse(r.stdout) as Profile;
  assert.equal(p.totals.gradientBytes, PARAMS * 4);
  assert.equal(p.totals.optimizerStateBytes, PARAMS * 8);
});

function assertOneLineError(r: { code: number | null; stderr: string }, pattern: RegExp) {
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

test('bad input: missing file, truncated file, not ONNX, cycle, old opset, bad flags', () => {
  assertOneLineError(memlens('profile', path.join(tmp, 'nope.onnx')), /nope\.onnx: no such file/);
  const truncated = path.join(tmp, 'truncated.onnx');
  fs.writeFileSync(truncated, fs.readFileSync(mlp).subarray(0, 300));
  assertOneLineError(memlens('profile', truncated), /truncated\.onnx: not (a valid ONNX file|an ONNX model)/);
  const text = path.join(tmp, 'text.onnx');
  fs.writeFileSync(text, 'this is not a model\n'.repeat(20));
  assertOneLineError(memlens('profile', text), /text\.onnx: not (a valid ONNX file|an ONNX model)/);
  const cycle = writeModel('cycle.onnx', (b) => {
    const x = b.input('x', 'float32', [1, 4]);
    b.op('Add', [x, 'b_out'], { name: 'a', outputs: ['a_out'] });
    b.op('Relu', ['a_out'], { name: 'b', outputs: ['b_out'] });
    b.output('b_out', 'float32', [1, 4]);
  });
  assertOneLineError(memlens('profile', cycle), /cycle through node/);
  const old = writeModel('old.onnx', (b) => {
    const x = b.input('x', 'float32', [1, 4]);
    b.op('Relu', [x], { name: 'r', outputs: ['y'] });
    b.output('y', 'float32', [1, 4]);
  }, 5);
  assertOneLineError(memlens('profile', old), /opset 5 is not supported/);
  assertOneLineError(memlens('profile', mlp, '--batch', 'many'), /--batch: expected a positive whole number/);
  assertOneLineError(memlens('profile', mlp, '--budget', 'lots'), /--budget: cannot read 'lots'/);
  assertOneLineError(memlens('profile', path.join(tmp, 'model.txt')), /not a model file MemLens reads/);
});

test('a symbolic dimension left unbound gives a warning and a partial result, not a crash', () => {
  const f = writeModel('symbolic.onnx', (b) => {
    const x = b.input('x', 'float32', ['mystery_dim', 4]);
    b.op('Relu', [x], { name: 'r', outputs: ['y'] });
    b.output('y', 'float32', ['mystery_dim', 4]);
  });
  const r = memlens('profile', f, '--json');
  assert.equal(r.code, 0, r.stderr);
  const p = JSON.parse(r.stdout) as Profile;
  assert.ok(p.unknownTensors > 0);
  assert.ok(p.warnings.some((w: string) => /mystery_dim/.test(w)), p.warnings.join('\n'));
  const bound = JSON.parse(memlens('profile', f, '--dim', 'mystery_dim=7', '--json').stdout) as Profile;
  assert.equal(bound.unknownTensors, 0);
  assert.equal(bound.settings.dims.mystery_dim, 7);
});

test('--run measures on ONNX Runtime and prints the comparison beside the estimate', () => {
  const r = memlens('profile', mlp, '--batch', '32', '--run', '--ep', 'cpu', '--runs', '2', '--json');
  assert.equal(r.code, 0, r.stderr);
  const m = (JSON.parse(r.stdout) as Profile).measured;
  assert.ok(m && m.runtime === 'onnxruntime', 'the profile has ONNX Runtime figures');
  assert.equal(m.ep, 'cpu');
  assert.deepEqual(m.perNode.map((n) => n.node), ['/fc1/Gemm', '/relu/Relu', '/fc2/Gemm']);
  assert.equal(m.perNode[0].outputBytes, 32 * 1024 * 4);
  assert.ok(m.comparison?.withinTarget, (m.comparison?.summary ?? ['no comparison']).join('\n'));
  const table = memlens('profile', mlp, '--batch', '32', '--run', '--ep', 'cpu', '--runs', '2');
  assert.match(table.stdout, /measured on cpu: [\d.]+ ms per run/);
  assert.match(table.stdout, /estimated [\d.]+ KiB, measured [\d.]+ KiB/);
  // With --ep auto the table says which provider ran and why the GPU ones did not.
  const auto = memlens('profile', mlp, '--batch', '32', '--run', '--runs', '2');
  assert.equal(auto.code, 0, auto.stderr);
  assert.match(auto.stdout, /measured on (cpu|cuda|webgpu)/);
  if (/measured on cpu/.test(auto.stdout)) assert.match(auto.stdout, /cuda not used: .+/);
});

test('--run refuses a model whose estimated peak is over the memory limit, before starting it', () => {
  const big = writeModel('big.onnx', (b) => {
    // 2^20 x 2^20 fp32 weights: 4 TiB, more than any machine this runs on.
    const x = b.input('x', 'float32', ['batch', 1048576]);
    b.one('MatMul', [x, b.weight('w', [1048576, 1048576])], { name: 'mm', outputs: ['y'] });
    b.output('y', 'float32', ['batch', 1048576]);
  });
  const r = memlens('profile', big, '--run');
  assertOneLineError(r, /model run refused: the estimated peak 4\.0 TiB .* is over the run's memory limit/);
});
