// The one-line error contract as a user meets it (a real `memlens` process): each failure is one
// line of at most 300 characters after "memlens: ", exit 2, never "internal error".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { GraphBuilder } from '../../fixtures/graph-builder';

const BIN = path.join(path.resolve(__dirname, '../../../..'), 'bin', 'memlens.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-oneline-'));

function memlens(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertOneLine(r: ReturnType<typeof memlens>, re: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, r.stderr.slice(0, 400));
  assert.ok(lines[0].length <= 'memlens: '.length + 300, `${lines[0].length} chars`);
  assert.doesNotMatch(lines[0], /internal error/);
  assert.match(lines[0], re);
}

const model = (() => {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['batch', 8]);
  b.op('Relu', [x], { outputs: ['y'] });
  b.output('y', 'float32');
  const file = path.join(tmp, 'm.onnx');
  fs.writeFileSync(file, encodeModel(b.model(17)));
  return file;
})();

test('--trace into a missing folder names the file', () => {
  const trace = path.join(tmp, 'no', 'such', 't.json');
  assertOneLine(memlens('profile', model, '--trace', trace), new RegExp(`^memlens: ${trace.replace(/[/.]/g, '\\$&')}: cannot write \\(its folder does not exist\\)$`));
});

test('an .onnx file over 2 GiB is refused by its size, without reading it', () => {
  const big = path.join(tmp, 'big.onnx');
  fs.writeFileSync(big, '');
  fs.truncateSync(big, 2.5 * 2 ** 30); // sparse: no disk is used
  assertOneLine(memlens('profile', big), /big\.onnx: 2\.5 GiB, over the 2 GiB a single ONNX protobuf can hold; keep the weights as external data$/);
  fs.rmSync(big);
});

test('an error echoing a 20,000-character name is cut to 300 characters', () => {
  assertOneLine(memlens('profile', model, '--input', `${'n'.repeat(20_000)}=1`), /^memlens: --input n+…$/);
});

test('--batch -1 names the flag and the value', () => {
  assertOneLine(memlens('profile', model, '--batch', '-1'), /^memlens: --batch: expected a positive whole number, got '-1'$/);
});
