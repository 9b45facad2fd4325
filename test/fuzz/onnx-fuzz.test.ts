// Seeded fuzzing of `memlens profile` on malformed ONNX files and bad command lines, in process (the
// real CLI entry, its output captured). Seeds are the real fixture models with their weights left
// out (same graphs, kilobytes instead of megabytes). Every case must end as a profile whose figures
// are all finite and >= 0, or as one MemlensError line of at most 300 characters with no stack.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../extension/cli/main';
import { isMemlensError } from '../../extension/engine/errors';
import { firstBadFigure } from '../../extension/engine/figures-check';
import { decodeModel } from '../../extension/engine/onnx/decode';
import { encodeModel } from '../../extension/engine/onnx/encode';
import { ModelProto, type PbModel } from '../../extension/engine/onnx/schema';
import { seededRng, type Rng } from '../../extension/engine/seeded-random';
import { fixtureModelsDir } from '../fixtures/real-models';
import { mutateFields } from './field-mutations';
import { trapFiles } from './traps';

const SEED = 0x4d454d; // fixed: the same files every run
const BYTE_CASES = 1500;
const FIELD_CASES = 900;
const SEED_MODELS = ['mobilenet_v2', 'resnet18', 'transformer_encoder'];
/** A case past this is a hang (the in-process run cannot be killed, so it is measured). */
const HANG_MS = 15_000;

interface Outcome { name: string; problem: string }
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-fuzz-'));
const seeds: Uint8Array[] = [];

before(() => {
  for (const name of SEED_MODELS) {
    const m = decodeModel(fs.readFileSync(path.join(fixtureModelsDir, `${name}.onnx`)), name);
    for (const i of m.graph.initializers.values()) {
      delete i.raw;
      delete i.values;
    }
    seeds.push(encodeModel(m));
  }
});

/** Runs the CLI in this process with its output collected; returns what a user would see. */
async function cli(argv: string[]): Promise<{ code: number | 'threw'; out: string; thrown: unknown; ms: number }> {
  const out: string[] = [];
  const t0 = Date.now();
  try {
    const code = await main(argv, (s) => out.push(s));
    return { code, out: out.join(''), thrown: null, ms: Date.now() - t0 };
  } catch (e) {
    return { code: 'threw', out: out.join(''), thrown: e, ms: Date.now() - t0 };
  }
}

/** The problem with one run, or null when it ended as the contract says. */
function judge(r: Awaited<ReturnType<typeof cli>>, json: boolean): string | null {
  if (r.ms > HANG_MS) return `took ${r.ms} ms`;
  if (r.code === 'threw') {
    if (!isMemlensError(r.thrown)) return `uncaught ${(r.thrown as Error)?.name}: ${String((r.thrown as Error)?.message).slice(0, 200)}`;
    const m = r.thrown.message;
    if (r.thrown.exitCode === 0) return null; // --help
    if (m.includes('\n')) return `message of ${m.split('\n').length} lines: ${m.slice(0, 120)}`;
    if (m.length > 300) return `message of ${m.length} chars: ${m.slice(0, 120)}`;
    if (/^\s+at |\bat .+:\d+:\d+\)?$/m.test(m)) return `stack trace in: ${m.slice(0, 120)}`;
    if (/\bNaN\b|Infinity/.test(m.replace(/'[^']*'/g, "''"))) return `non-finite figure in: ${m.slice(0, 160)}`;
    return null;
  }
  if (json) {
    const bad = firstBadFigure(JSON.parse(r.out));
    if (bad) return `figure ${bad.path} = ${bad.value}`;
  } else if (/\bNaN\b|Infinity|-\d+(\.\d+)? [KMGTP]?i?B\b/.test(r.out)) return `non-finite or negative figure in the table`;
  return null;
}

/** Profiles `bytes` as a file; true when it gave a profile (false: a refusal, or a failure recorded). */
async function profileBytes(name: string, bytes: Uint8Array, failures: Outcome[], json = true): Promise<boolean> {
  const file = path.join(dir, `${name}.onnx`);
  fs.writeFileSync(file, bytes);
  const r = await cli(['profile', file, ...(json ? ['--json'] : [])]);
  const problem = judge(r, json);
  if (problem) failures.push({ name, problem });
  fs.rmSync(file, { force: true });
  return r.code !== 'threw';
}

function byteMutation(src: Uint8Array, rng: Rng): Uint8Array {
  const b = Buffer.from(src);
  const at = () => Math.floor(rng() * b.length);
  switch (Math.floor(rng() * 5)) {
    case 0: { // a few random bytes
      const n = 1 + Math.floor(rng() * 8);
      for (let i = 0; i < n; i++) b[at()] = Math.floor(rng() * 256);
      return b;
    }
    case 1: { // a bit flip
      const i = at();
      b[i] ^= 1 << Math.floor(rng() * 8);
      return b;
    }
    case 2: return b.subarray(0, at()); // truncation
    case 3: { // a slice repeated in place
      const s = at(), len = Math.floor(rng() * 64);
      return Buffer.concat([b.subarray(0, s), b.subarray(s, s + len), b.subarray(s)]);
    }
    default: { // a run of 0xff (varints that never end, huge lengths)
      const s = at();
      b.fill(0xff, s, Math.min(b.length, s + 1 + Math.floor(rng() * 10)));
      return b;
    }
  }
}

const report = (failures: Outcome[]) => failures.slice(0, 8).map((f) => `${f.name}: ${f.problem}`).join('\n');

test(`${BYTE_CASES} byte mutations of real models: one line or sound figures`, async () => {
  const rng = seededRng(SEED);
  const failures: Outcome[] = [];
  let profiled = 0;
  for (let i = 0; i < BYTE_CASES; i++) {
    const s = i % seeds.length;
    if (await profileBytes(`byte-${SEED_MODELS[s]}-${i}`, byteMutation(seeds[s], rng), failures, i % 7 !== 0)) profiled++;
  }
  assert.equal(failures.length, 0, `${failures.length} of ${BYTE_CASES} failed:\n${report(failures)}`);
  // Both ends are exercised: mutations that still decode and profile, and ones refused.
  assert.ok(profiled > BYTE_CASES / 10 && profiled < BYTE_CASES * 0.9, `${profiled} of ${BYTE_CASES} gave a profile`);
});

test(`${FIELD_CASES} field mutations (dims, attributes, names, opsets, external data): one line or sound figures`, async () => {
  const rng = seededRng(SEED ^ 0xf1e1d);
  const failures: Outcome[] = [];
  let profiled = 0;
  for (let i = 0; i < FIELD_CASES; i++) {
    const s = i % seeds.length;
    const pb = ModelProto.decode(seeds[s]) as unknown as PbModel;
    const what = mutateFields(pb, rng);
    if (await profileBytes(`field-${SEED_MODELS[s]}-${i}-${what}`, ModelProto.encode(pb).finish(), failures)) profiled++;
  }
  assert.ok(profiled > FIELD_CASES / 10 && profiled < FIELD_CASES * 0.9, `${profiled} of ${FIELD_CASES} gave a profile`);
  assert.equal(failures.length, 0, `${failures.length} of ${FIELD_CASES} failed:\n${report(failures)}`);
});

test('structured traps: lying lengths, cycles, absurd dims, ../ external data, 10^5 outputs, empty and huge names', async () => {
  const failures: Outcome[] = [];
  const traps = trapFiles(seeds[0]);
  for (const t of traps) await profileBytes(`trap-${t.name}`, t.bytes, failures);
  // Not a file at all, a folder, a missing file.
  for (const [name, argv] of [['missing', ['profile', path.join(dir, 'nope.onnx')]], ['folder', ['profile', dir]]] as const) {
    const problem = judge(await cli([...argv]), true);
    if (problem) failures.push({ name, problem });
  }
  assert.ok(traps.length >= 12);
  assert.equal(failures.length, 0, report(failures));
});

test('bad command lines end in one line each', async () => {
  const file = path.join(dir, 'good.onnx');
  fs.writeFileSync(file, seeds[1]);
  const lines: string[][] = [
    [], ['profile'], ['frobnicate', file], ['profile', file, '--batch', '-1'], ['profile', file, '--batch', '0'],
    ['profile', file, '--batch', '1e300'], ['profile', file, '--batch', '99999999999999999999'], ['profile', file, '--seq', 'abc'],
    ['profile', file, '--mode', 'evil'], ['profile', file, '--dtype', 'fp64'], ['profile', file, '--dim', 'x=-3'],
    ['profile', file, '--dim', '__proto__=4'], ['profile', file, '--dim', 'constructor=2'], ['profile', file, '--input', 'x=NaN'],
    ['profile', file, '--budget', '1B'], ['profile', file, '--budget', 'lots'], ['profile', file, '--budget', '-5GiB'],
    ['profile', file, '--unknown-flag'], ['profile', file, '--timeout', '0'], ['profile', file, '--runs', '-2'],
    ['fit', file], ['fit', file, '--budget', '1KiB', '--write'], ['fit', file, '--budget', '1KiB', '--out', file],
    ['profile', file, '--trace', path.join(dir, 'no', 'such', 'dir', 't.json')], ['profile', file, 'extra'],
    ['profile', file, `--dim=${'x'.repeat(10_000)}=1`], ['suggest', path.join(dir, 'model.unknown')], ['profile', file, '--help'],
  ];
  const failures: Outcome[] = [];
  for (const argv of lines) {
    const r = await cli(argv);
    const problem = judge(r, false);
    if (problem) failures.push({ name: argv.join(' ').slice(0, 80), problem });
    else if (r.code === 'threw' && isMemlensError(r.thrown) && r.thrown.exitCode !== 0) assert.ok(r.thrown.message.length > 0);
  }
  assert.equal(failures.length, 0, report(failures));
});
