// The JSON Schema of `memlens.profile/1` (schema/memlens.profile-1.schema.json) against what the
// CLI really writes: TypeScript, ONNX and Python models, inference and training, estimated and
// measured with --run, each validated by Ajv. The schema must also reject a wrong type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { GraphBuilder } from '../../fixtures/graph-builder';

const ROOT = path.resolve(__dirname, '../../../..');
const BIN = path.join(ROOT, 'bin', 'memlens.js');
const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'memlens.profile-1.schema.json'), 'utf8')) as object;
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-schema-'));

function profileJson(...args: string[]): unknown {
  const r = spawnSync(process.execPath, [BIN, 'profile', ...args, '--json'], { encoding: 'utf8', timeout: 300_000, cwd: ROOT });
  assert.equal(r.status, 0, `memlens profile ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function assertValid(p: unknown, what: string): void {
  const ok = validate(p);
  assert.ok(ok, `${what}: ${JSON.stringify(validate.errors?.slice(0, 5), null, 1)}`);
}

// [batch, 64] -> Gemm 64x128 -> Relu -> Gemm 128x10
const mlp = (() => {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['batch', 64]);
  const h = b.one('Gemm', [x, b.weight('fc1.weight', [128, 64]), b.weight('fc1.bias', [128])], { name: '/fc1/Gemm', attrs: { transB: { kind: 'int', value: 1 } } });
  const r = b.one('Relu', [h], { name: '/relu/Relu' });
  b.one('Gemm', [r, b.weight('fc2.weight', [10, 128]), b.weight('fc2.bias', [10])], { name: '/fc2/Gemm', outputs: ['logits'], attrs: { transB: { kind: 'int', value: 1 } } });
  b.output('logits', 'float32', ['batch', 10]);
  const file = path.join(tmp, 'mlp.onnx');
  fs.writeFileSync(file, encodeModel(b.model(17)));
  return file;
})();

test('ONNX: inference, training and a measured run follow the schema', () => {
  assertValid(profileJson(mlp, '--batch', '8'), 'onnx inference');
  assertValid(profileJson(mlp, '--batch', '8', '--mode', 'train', '--optimizer', 'adam8bit', '--dtype', 'bf16'), 'onnx training');
  const run = profileJson(mlp, '--batch', '8', '--run', '--ep', 'cpu', '--runs', '2') as { measured?: { runtime: string; comparison: unknown }; ortOptimised?: { prepackedBytes: number } };
  assert.equal(run.measured?.runtime, 'onnxruntime');
  // Both Gemms' constant B are prepacked by the optimised session: MlasGemmPackBSize(128, 64) + (16, 128).
  assert.equal(run.ortOptimised?.prepackedBytes, 128 * 64 * 4 + 16 * 128 * 4);
  assert.ok(run.measured?.comparison, 'the run is compared with the estimate');
  assertValid(run, 'onnx --run');
});

test('TypeScript samples: inference with a KV cache, a training step, and a measured run', { timeout: 600_000 }, () => {
  assertValid(profileJson('samples/gpt2.ts', '--seq', '32'), 'gpt2.ts inference');
  assertValid(profileJson('samples/gpt2.ts', '--entry', 'gpt2Decode', '--seq', '16'), 'gpt2.ts decode');
  // A decode step with its own past length (settings.past, totals.kvPastBytes), and a prefill as a decode entry (past 0: a dim of size 0).
  assertValid(profileJson('samples/gpt2.ts', '--entry', 'gpt2Decode', '--seq', '1', '--past', '64'), 'gpt2.ts decode --past 64');
  assertValid(profileJson('samples/gpt2.ts', '--entry', 'gpt2Decode', '--seq', '4', '--past', '0'), 'gpt2.ts decode --past 0');
  assertValid(profileJson('samples/gpt2-train.ts', '--mode', 'train', '--seq', '32'), 'gpt2-train.ts training');
  assertValid(profileJson('samples/resnet.ts', '--run', '--ep', 'cpu', '--runs', '1'), 'resnet.ts --run');
});

test('Python samples: an exported decoder measured, and a training script', { timeout: 600_000 }, () => {
  assertValid(profileJson('samples/python/gpt_decoder.py', '--batch', '2', '--seq', '32', '--run', '--ep', 'cpu', '--runs', '1'), 'gpt_decoder.py --run');
  assertValid(profileJson('samples/python/train_gpt.py', '--mode', 'train', '--batch', '2', '--seq', '32'), 'train_gpt.py training');
});

const DELETE = Symbol('delete');
type Node = Record<string | number, unknown>;

/** A copy of `p` with the value at path `at` replaced by `change(old)` (removed for DELETE). */
function edited(p: unknown, at: (string | number)[], change: (old: unknown) => unknown): unknown {
  const copy = structuredClone(p);
  let o = copy as Node;
  for (const k of at.slice(0, -1)) o = o[k] as Node;
  const last = at[at.length - 1];
  const value = change(o[last]);
  if (value === DELETE) delete o[last];
  else o[last] = value;
  return copy;
}

test('the schema rejects a wrong type, an unknown field, a missing field and an unknown runtime', () => {
  const good = profileJson(mlp, '--batch', '4', '--run', '--ep', 'cpu', '--runs', '1');
  assertValid(good, 'the unchanged profile');
  const broken: [string, (string | number)[], (old: unknown) => unknown][] = [
    ['peak bytes as a string', ['peak', 'bytes'], (b) => String(b)],
    ['fractional bytes in the timeline', ['timeline', 0, 'liveBytes'], (b) => Number(b) + 0.5],
    ['an unknown phase', ['timeline', 0, 'phase'], () => 'sideways'],
    ['an unknown category', ['breakdown', 'scratch'], () => 1],
    ['a missing total', ['totals', 'weightBytes'], () => DELETE],
    ['an unknown top-level field', ['extra'], () => 1],
    ['a line number as a string', ['lines', 0, 'line'], (l) => String(l)],
    ['an unknown runtime', ['measured', 'runtime'], () => 'tensorflow'],
    ['per-node bytes as null', ['measured', 'perNode', 0, 'outputBytes'], () => null],
    ['a measured run without its peak source', ['measured', 'peakSource'], () => DELETE],
  ];
  for (const [what, at, change] of broken) {
    assert.equal(validate(edited(good, at, change)), false, `${what} passed the schema`);
  }
});
