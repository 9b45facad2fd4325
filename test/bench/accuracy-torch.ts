// `npm run accuracy:torch`: MemLens's training and inference estimates against PyTorch's own
// accounting of the held-out models (scripts/accuracy/torch-models/, never used to tune a rule).
//
// The reference comes from scripts/accuracy/torch-reference.py (Debian's /usr/bin/python3, torch's
// saved-tensor hooks and profiler; see that file), cached in .cache/accuracy/torch-reference.json
// and rebuilt with --refresh or when missing. The estimates come from the CLI, exactly as a user
// runs it: `memlens profile <model>.py --mode train|infer --batch B [--seq T] --optimizer adamw --json`.
// Each cell reads "estimate N% above/below measured"; the last rows are the median and the maximum
// of the absolute errors. Results also go to .cache/accuracy/torch-compare.json.
//
// Options: --refresh (rerun the reference), --only NAME..., --run (also `--run` each model in
// train mode and check that its per-line figures sum to its measured peak).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../fixtures/repo-root';

const ROOT = repoRoot;
const PYTHON = '/usr/bin/python3';
const REFERENCE = path.join(ROOT, '.cache', 'accuracy', 'torch-reference.json');
const OUTPUT = path.join(ROOT, '.cache', 'accuracy', 'torch-compare.json');

interface StepFigures { peakBytes: number; phase: string | null }

interface ReferenceModel {
  name: string;
  file: string;
  batch: number;
  seq: number | null;
  counts: { params: number; parameterBytes: number; bufferBytes: number };
  saved: { activationBytes: number; lossBytes: number };
  train: { firstStep: StepFigures; steadySetToNone: StepFigures; steadyZeroFill: StepFigures; gradientBytes: number; optimizerStateBytes: number; optimizerStepCounterBytes: number };
  inference: { peakBytes: number };
}

interface Estimate {
  params: number;
  peak: { bytes: number; phase: string };
  totals: { weightBytes: number; savedActivationBytes: number; gradientBytes: number; optimizerStateBytes: number };
  measured?: { peakBytes: number; atPeak: { lines: Array<{ bytes: number }>; buckets: Record<string, number> } };
}

// Saved activations: bytes autograd saves in the model's forward (not the loss's), outside
// parameters, buffers and the batch. Steady peaks: step 2 (zero_grad(set_to_none=True)) and
// step 3 (set_to_none=False) of one run; each is held against the estimate of that step
// (`--step first`, the default steady step, `--zero-grad zero`), all with `--device cpu`.
const COLUMNS = ['params', 'saved act.', 'gradients', 'opt. state', 'first step', 'steady/none', 'steady/zero', 'inference'] as const;
type Column = (typeof COLUMNS)[number];

function args(): { refresh: boolean; run: boolean; only: string[] } {
  const argv = process.argv.slice(2);
  const only = argv.includes('--only') ? argv.slice(argv.indexOf('--only') + 1).filter((a) => !a.startsWith('--')) : [];
  return { refresh: argv.includes('--refresh'), run: argv.includes('--run'), only };
}

function reference(refresh: boolean, only: string[]): ReferenceModel[] {
  if (refresh || !fs.existsSync(REFERENCE)) {
    process.stderr.write('accuracy:torch: measuring the reference with PyTorch (scripts/accuracy/torch-reference.py)\n');
    execFileSync(PYTHON, [path.join(ROOT, 'scripts', 'accuracy', 'torch-reference.py'), '--out', REFERENCE, ...(only.length ? ['--only', ...only] : [])], { stdio: 'inherit' });
  }
  const models = (JSON.parse(fs.readFileSync(REFERENCE, 'utf8')) as { models: ReferenceModel[] }).models;
  return only.length ? models.filter((m) => only.includes(m.name)) : models;
}

/** The reference runs on CPU; each training column is the step it names (`--step`, `--zero-grad`). */
function memlens(m: ReferenceModel, mode: 'train' | 'infer', run: boolean, step: string[] = []): Estimate {
  const cli = [path.join(ROOT, 'bin', 'memlens.js'), 'profile', path.join(ROOT, m.file), '--mode', mode, '--batch', String(m.batch),
    ...(m.seq ? ['--seq', String(m.seq)] : []), '--optimizer', 'adamw', '--device', 'cpu', ...step, '--python', PYTHON, '--timeout', '1800', '--json', ...(run ? ['--run', '--runs', '2'] : [])];
  const r = spawnSync(process.execPath, cli, { encoding: 'utf8', maxBuffer: 512 * 2 ** 20 });
  if (r.status !== 0) throw new Error(r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
  return JSON.parse(r.stdout) as Estimate;
}

/** (estimate - measured) / measured in percent. */
const error = (estimated: number, measured: number) => (measured === 0 ? (estimated === 0 ? 0 : Infinity) : (100 * (estimated - measured)) / measured);

function cell(e: number | null | string): string {
  if (e === null) return '-';
  if (typeof e === 'string') return e;
  if (Math.abs(e) < 0.05) return 'exact';
  return `${Math.abs(e).toFixed(1)}% ${e > 0 ? 'above' : 'below'}`;
}

function main(): void {
  const opts = args();
  const models = reference(opts.refresh, opts.only);
  const rows: Array<{ name: string; errors: Partial<Record<Column, number | string>>; figures: Record<string, unknown> }> = [];
  for (const m of models) {
    process.stderr.write(`accuracy:torch: ${m.name}\n`);
    const errors: Partial<Record<Column, number | string>> = {};
    const figures: Record<string, unknown> = {};
    try {
      const train = memlens(m, 'train', false);
      figures.train = { params: train.params, peak: train.peak, totals: train.totals };
      errors.params = error(train.params, m.counts.params);
      errors['saved act.'] = error(train.totals.savedActivationBytes, m.saved.activationBytes);
      errors.gradients = error(train.totals.gradientBytes, m.train.gradientBytes);
      errors['opt. state'] = error(train.totals.optimizerStateBytes, m.train.optimizerStateBytes);
      const first = memlens(m, 'train', false, ['--step', 'first']);
      const zero = memlens(m, 'train', false, ['--zero-grad', 'zero']);
      figures.steps = { first: first.peak, steadyZero: zero.peak };
      errors['first step'] = error(first.peak.bytes, m.train.firstStep.peakBytes);
      errors['steady/none'] = error(train.peak.bytes, m.train.steadySetToNone.peakBytes);
      errors['steady/zero'] = error(zero.peak.bytes, m.train.steadyZeroFill.peakBytes);
    } catch (e) {
      for (const c of COLUMNS) if (c !== 'inference') errors[c] = `train: ${(e as Error).message}`;
    }
    try {
      const infer = memlens(m, 'infer', false);
      figures.infer = { peak: infer.peak, totals: infer.totals };
      errors.inference = error(infer.peak.bytes, m.inference.peakBytes);
    } catch (e) {
      errors.inference = `infer: ${(e as Error).message}`;
    }
    if (opts.run) figures.run = measuredRun(m);
    rows.push({ name: m.name, errors, figures });
  }
  print(rows);
  fs.mkdirSync(path.dirname(OUTPUT), { recursive: true });
  fs.writeFileSync(OUTPUT, JSON.stringify({ schema: 'memlens.torch-compare/1', reference: path.relative(ROOT, REFERENCE), rows }, null, 1));
  process.stderr.write(`accuracy:torch: wrote ${path.relative(ROOT, OUTPUT)}\n`);
}

/** `--run`: PyTorch's measurement through MemLens; its lines and buckets must sum to its peak. */
function measuredRun(m: ReferenceModel): Record<string, unknown> {
  try {
    const p = memlens(m, 'train', true);
    const measured = p.measured;
    if (!measured) return { error: 'no measurement in the profile' };
    const sum = measured.atPeak.lines.reduce((a, l) => a + l.bytes, 0) + Object.values(measured.atPeak.buckets).reduce((a, b) => a + b, 0);
    return { peakBytes: measured.peakBytes, linesAndBucketsBytes: sum, sumsToPeak: sum === measured.peakBytes, lines: measured.atPeak.lines.length, referenceSteadyBytes: m.train.steadySetToNone.peakBytes };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

function print(rows: Array<{ name: string; errors: Partial<Record<Column, number | string>> }>): void {
  const width = Math.max(...rows.map((r) => r.name.length), 'median |error|'.length) + 2;
  const colWidth = '100.0% above'.length + 2;
  const line = (name: string, cells: string[]) => name.padEnd(width) + cells.map((c) => c.padStart(colWidth)).join('');
  const out = ['MemLens estimate vs PyTorch (torch, CPU): "estimate N% above/below measured"', line('model', [...COLUMNS])];
  for (const r of rows) out.push(line(r.name, COLUMNS.map((c) => cell(typeof r.errors[c] === 'string' ? 'failed' : (r.errors[c]) ?? null))));
  const numbers = (c: Column) => rows.map((r) => r.errors[c]).filter((e): e is number => typeof e === 'number' && Number.isFinite(e)).map(Math.abs);
  const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
  out.push(line('median |error|', COLUMNS.map((c) => { const v = median(numbers(c)); return v === null ? '-' : `${v.toFixed(1)}%`; })));
  out.push(line('max |error|', COLUMNS.map((c) => { const xs = numbers(c); return xs.length ? `${Math.max(...xs).toFixed(1)}%` : '-'; })));
  for (const r of rows) {
    const failures = new Set(COLUMNS.map((c) => r.errors[c]).filter((e): e is string => typeof e === 'string'));
    for (const f of failures) out.push(`${r.name}: ${f}`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

main();
