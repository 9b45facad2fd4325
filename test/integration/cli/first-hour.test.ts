// The CLI's first-hour behaviour as a user meets it: help and version texts, one-line usage
// errors, a budget without a unit, an entry's declared mode, an explicit provider that cannot run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Profile } from '../../../extension/engine/profile';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { GraphBuilder } from '../../fixtures/graph-builder';

const ROOT = path.resolve(__dirname, '../../../..');
const BIN = path.join(ROOT, 'bin', 'memlens.js');
const SAMPLES = path.join(ROOT, 'samples');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-first-hour-'));

function memlens(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const oneLine = (s: string) => s.trim().split('\n').length === 1;

// [batch, 64] -> Gemm 64x64
function tinyModel(): string {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['batch', 64]);
  b.one('Gemm', [x, b.weight('w', [64, 64])], { name: '/fc/Gemm', outputs: ['y'] });
  b.output('y', 'float32', ['batch', 64]);
  const file = path.join(tmp, 'tiny.onnx');
  fs.writeFileSync(file, encodeModel(b.model(17)));
  return file;
}

test('--version prints the package version and exits 0', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const r = memlens('--version');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `memlens ${pkg.version}\n`);
});

test('`memlens help`, `memlens help fit` and `memlens suggest --help` print usage on stdout, exit 0', () => {
  const all = memlens('help');
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /^usage: memlens <command> <file>/);
  const fit = memlens('help', 'fit');
  assert.equal(fit.code, 0, fit.stderr);
  assert.match(fit.stdout, /^usage: memlens fit <file>/);
  assert.match(fit.stdout, /--out PATH/);
  assert.doesNotMatch(fit.stdout, /--runs N/, 'fit does not list the options only profile reads');
  const suggest = memlens('suggest', '--help');
  assert.equal(suggest.code, 0, suggest.stderr);
  assert.match(suggest.stdout, /^usage: memlens suggest <file>/);
  assert.equal(suggest.stderr, '');
});

test('an unknown option is one line with the nearest option and where help is', () => {
  const r = memlens('profile', 'model.onnx', '--budgit', '8GiB');
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.ok(oneLine(r.stderr), r.stderr);
  assert.equal(r.stderr, "memlens: unknown option '--budgit' (did you mean --budget?); see memlens profile --help\n");
  const far = memlens('fit', 'model.onnx', '--zzzzzzzz');
  assert.equal(far.stderr, "memlens: unknown option '--zzzzzzzz'; see memlens fit --help\n");
  const cmd = memlens('frob', 'model.onnx');
  assert.equal(cmd.code, 2);
  assert.ok(oneLine(cmd.stderr), cmd.stderr);
  assert.match(cmd.stderr, /unknown command 'frob' \(commands: profile, suggest, fit\)/);
});

test('--budget without a unit is refused in one line, with the unit spelled out', () => {
  const model = tinyModel();
  const r = memlens('profile', model, '--budget', '2');
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "memlens: --budget: '2' has no unit; write it with one, e.g. 2GiB, 2GB or 2B\n");
  const bytes = memlens('profile', model, '--budget', '2B');
  assert.equal(bytes.code, 3, 'an explicit 2 B budget is taken at its word');
});

test("an entry that declares mode 'train' is profiled as a training step unless --mode says otherwise", () => {
  const train = memlens('profile', path.join(SAMPLES, 'gpt2-train.ts'), '--json');
  assert.equal(train.code, 0, train.stderr);
  const p = JSON.parse(train.stdout) as Profile;
  assert.equal(p.settings.mode, 'train');
  // AdamW keeps two fp32 moments per trainable parameter: GPT-2 small's 124,439,808 (published count).
  assert.equal(p.trainableParams, 124_439_808);
  assert.equal(p.totals.optimizerStateBytes, 2 * 4 * 124_439_808);
  assert.equal(p.totals.gradientBytes, 4 * 124_439_808);
  const infer = memlens('profile', path.join(SAMPLES, 'gpt2-train.ts'), '--mode', 'infer', '--json');
  assert.equal(infer.code, 0, infer.stderr);
  assert.equal((JSON.parse(infer.stdout) as Profile).settings.mode, 'infer');
});

test('--ep cuda where CUDA cannot run is an error (exit 2), not a silent run on cpu; auto falls back', () => {
  const model = tinyModel();
  const r = memlens('profile', model, '--run', '--runs', '1', '--ep', 'cuda');
  assert.equal(r.code, 2, r.stdout);
  assert.ok(oneLine(r.stderr), r.stderr);
  assert.match(r.stderr, /--ep cuda cannot run here \(provider libraries not installed.*\); use --ep auto to fall back to cpu, or --ep cpu/);
  const auto = memlens('profile', model, '--run', '--runs', '1', '--ep', 'auto', '--json');
  assert.equal(auto.code, 0, auto.stderr);
  assert.equal((JSON.parse(auto.stdout) as Profile).measured?.ep, 'cpu');
});

test('--trace says on stderr where it wrote, and --json stdout stays one JSON document', () => {
  const out = path.join(tmp, 'trace.json');
  const r = memlens('profile', tinyModel(), '--trace', out, '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as Profile).schema, 'memlens.profile/1');
  assert.equal(r.stderr, `memlens: wrote the memory timeline to ${out} (open it in ui.perfetto.dev or chrome://tracing)\n`);
  assert.ok(fs.statSync(out).size > 0);
});

test('a progress line on stderr for work over a second, only when stderr is a terminal', () => {
  // A Python model, fresh each time so no cached export answers it: the export runs torch in a
  // child process for several seconds.
  const fresh = (tag: string) => {
    const dir = fs.mkdtempSync(path.join(tmp, `py-${tag}-`));
    for (const f of fs.readdirSync(path.join(SAMPLES, 'python'))) fs.copyFileSync(path.join(SAMPLES, 'python', f), path.join(dir, f));
    fs.appendFileSync(path.join(dir, 'train_gpt.py'), `# ${dir}\n`);
    return path.join(dir, 'train_gpt.py');
  };
  const piped = memlens('profile', fresh('piped'));
  assert.equal(piped.code, 0, piped.stderr);
  assert.doesNotMatch(piped.stderr, /memlens: profile/);
  const model = fresh('tty');
  // `script` gives the CLI a pseudo-terminal; its output is stdout and stderr together.
  const tty = spawnSync('script', ['-qec', `${process.execPath} ${BIN} profile ${model}`, '/dev/null'], { encoding: 'utf8', timeout: 120_000, cwd: ROOT });
  assert.equal(tty.status, 0, tty.stdout);
  assert.ok(tty.stdout.includes(`memlens: profile ${model} …\r\x1b[KMemLens · `), JSON.stringify(tty.stdout.slice(0, 200)));
});

test('the header shows seq only for a model with a sequence dim, and no batch a fixed-shape file ignored', () => {
  const image = memlens('profile', path.join(SAMPLES, 'resnet.ts'));
  assert.equal(image.code, 0, image.stderr);
  assert.equal(image.stdout.split('\n')[0], 'MemLens · samples/resnet.ts · resnet50 · inference · batch 1 · fp32');
  const text = memlens('profile', path.join(SAMPLES, 'gpt2.ts'), '--batch', '2', '--seq', '64');
  assert.equal(text.stdout.split('\n')[0], 'MemLens · samples/gpt2.ts · gpt2 · inference · batch 2 · seq 64 · fp32');

  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [2, 64]);
  b.one('Gemm', [x, b.weight('w', [64, 64])], { name: '/fc/Gemm', outputs: ['y'] });
  b.output('y', 'float32', [2, 64]);
  const fixed = path.join(tmp, 'fixed.onnx');
  fs.writeFileSync(fixed, encodeModel(b.model(17)));
  const r = memlens('profile', fixed, '--batch', '4', '--json');
  assert.equal(r.code, 0, r.stderr);
  const p = JSON.parse(r.stdout) as Profile;
  assert.deepEqual(p.settings.sized, { batch: false, seq: false, past: false });
  // The analysed input is the declared 2x64 fp32, not 4x64.
  assert.equal(p.breakdown.inputs, 2 * 64 * 4);
  assert.ok(p.warnings.includes("--batch 4 sizes no dimension of this model; analysed with the input shapes as declared: 'x' [2, 64]"), p.warnings.join('\n'));
  const table = memlens('profile', fixed, '--batch', '4');
  assert.doesNotMatch(table.stdout.split('\n')[0], /batch/);
});

test('fit --out on an entry whose model lives in an imported file refuses (exit 3) naming that file, and writes nothing', () => {
  const out = path.join(tmp, 'gpt2-train-fitted.ts');
  // Batch 8 training: 3.1 GiB as is; 3 GiB needs block checkpointing, which belongs in gpt2.ts.
  const r = memlens('fit', 'samples/gpt2-train.ts', '--batch', '8', '--budget', '2850MiB', '--out', out);
  assert.equal(r.code, 3, r.stdout);
  assert.ok(oneLine(r.stderr), r.stderr);
  assert.match(r.stderr, /^memlens: fit: nothing written: no part of the plan \(checkpoint h\.0\) has a place in samples\/gpt2-train\.ts; the model is defined in samples\/gpt2\.ts: change it there\n$/);
  assert.equal(fs.existsSync(out), false);
});

test('fit --out on a Python script whose model is imported refuses the same way (exit 3), naming the module file', () => {
  const out = path.join(tmp, 'train_gpt_fitted.py');
  const r = memlens('fit', 'samples/python/train_gpt.py', '--mode', 'train', '--batch', '8', '--budget', '155MiB', '--out', out);
  assert.equal(r.code, 3, r.stdout);
  assert.ok(oneLine(r.stderr), r.stderr);
  assert.match(r.stderr, /has a place in samples\/python\/train_gpt\.py; the model is defined in samples\/python\/gpt_decoder\.py: change it there\n$/);
  assert.equal(fs.existsSync(out), false);
});

test('fit --out into another folder keeps a TypeScript model\'s relative imports working', () => {
  const src = fs.mkdtempSync(path.join(tmp, 'src-'));
  fs.writeFileSync(path.join(src, 'extra.ts'), "export const NOTE = 'kept';\n");
  const text = fs.readFileSync(path.join(SAMPLES, 'gpt2.ts'), 'utf8').replace("import * as nn from 'memlens/nn';", "import * as nn from 'memlens/nn';\nimport { NOTE } from './extra';\nexport const note = NOTE;");
  fs.writeFileSync(path.join(src, 'gpt2.ts'), text);
  fs.copyFileSync(path.join(SAMPLES, 'tsconfig.json'), path.join(src, 'tsconfig.json'));
  const out = path.join(tmp, 'elsewhere', 'deeper', 'gpt2-fitted.ts');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const r = memlens('fit', path.join(src, 'gpt2.ts'), '--mode', 'train', '--batch', '8', '--budget', '3100MiB', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const written = fs.readFileSync(out, 'utf8');
  assert.match(written, /nn\.checkpoint/);
  assert.ok(written.includes(`from '${path.relative(path.dirname(out), path.join(src, 'extra'))}'`), written.slice(0, 400));
  const again = memlens('profile', out, '--mode', 'train', '--batch', '8', '--json');
  assert.equal(again.code, 0, again.stderr);
  assert.ok((JSON.parse(again.stdout) as Profile).peak.bytes <= 3100 * 2 ** 20);
});
