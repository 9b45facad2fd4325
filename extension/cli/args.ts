// Command-line arguments -> a typed request. Usage errors are MemlensErrors (exit 2).
import { parseArgs } from 'node:util';
import { MemlensError } from '../engine/errors';
import { MODES, OPTIMIZERS, PRECISIONS, withDefaults, type AnalysisSettings, type Mode, type OptimizerKind, type Precision } from '../engine/settings';
import { parseBytes } from '../engine/units';
import { PROVIDER_CHOICES, type ProviderChoice } from '../runner/types';
import type { GivenSettings } from '../analysis/load-model';
import type { MeasureRuntime } from '../analysis/profile-file';

export const USAGE = `usage: memlens <command> <file> [options]

commands:
  profile <file>   where the memory goes: peak, breakdown, top lines
  suggest <file>   memory-saving rewrites with their predicted saving and cost
  fit <file>       the cheapest set of rewrites that fits --budget

options:
  --entry NAME            model entry in a .ts/.py file (default: the first one)
  --mode ${MODES.join('|')}      inference (default) or one training step
  --batch N --seq N       batch size and sequence length (defaults 1 and 128)
  --dim name=N            bind any symbolic dimension (repeatable); input:axis=N sizes
                          an axis that has no name (e.g. --dim input:0=1)
  --input name=V          the value of a one-element input (e.g. --input sr=16000): folded
                          like a constant, so an If on it takes its branch; fed to --run
  --dtype ${PRECISIONS.join('|')}  compute precision (training: mixed precision with fp32 master weights)
  --optimizer ${OPTIMIZERS.join('|')}   (training; default adamw)
  --budget SIZE           e.g. 24GiB; exit code 3 when the peak is over it
  --json                  print the profile as JSON (schema memlens.profile/1)
  --trace FILE            write the memory timeline as Chrome trace / Perfetto JSON
  --run                   also run the model and measure it: .py models in PyTorch (training
                          steps in --mode train), others on ONNX Runtime
  --runtime torch|onnxruntime   what --run runs on (default: torch for .py, else onnxruntime)
  --ep ${PROVIDER_CHOICES.join('|')}   execution provider (PyTorch: auto, cpu, cuda; default auto)
  --runs N                measured runs or steps (default 3)
  --timeout SECONDS       time limit for tracing, export and runs (default 120)
  --write | --out PATH    (fit) apply the plan in place, or write the rewritten model to PATH
  --force                 (fit --out) replace PATH when it exists (never the model read)
  --python PATH           Python interpreter for .py models

exit codes: 0 ok, 2 bad input or usage, 3 peak over --budget`;

export type Command = 'profile' | 'suggest' | 'fit';

export interface CliRequest {
  command: Command;
  file: string;
  entry?: string;
  settings: AnalysisSettings;
  /** The settings given as flags; a Python script decides the others for itself. */
  given: GivenSettings;
  budget?: number;
  json: boolean;
  trace?: string;
  run: boolean;
  runtime?: MeasureRuntime;
  ep: ProviderChoice;
  runs: number;
  timeoutMs: number;
  write: boolean;
  out?: string;
  /** `fit --out` may replace an existing file (never the input). */
  force: boolean;
  python?: string;
}

/** `--mode` also takes the long words. */
const MODE_WORDS = new Map<string, Mode>([...MODES.map((m): [string, Mode] => [m, m]), ['inference', 'infer'], ['training', 'train']]);

/** `value` when it is one of `allowed`, else the usage error that lists them. */
function oneOf<T extends string>(flag: string, allowed: readonly T[], value: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new MemlensError(`${flag}: expected one of ${allowed.join(', ')}, got '${value}'`);
}

function positiveInt(v: string, flag: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) throw new MemlensError(`${flag}: expected a positive whole number, got '${v}'`);
  return Number(v);
}

const VALUE_FLAGS = new Set(['--entry', '--mode', '--batch', '--seq', '--dim', '--input', '--dtype', '--optimizer', '--budget', '--trace', '--ep', '--runtime', '--runs', '--timeout', '--out', '--python']);

/** `--batch -1` as `--batch=-1`: a value that looks like a flag is still the value, so its check names it. */
function joinValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (VALUE_FLAGS.has(argv[i]) && i + 1 < argv.length && /^-\d|^-$/.test(argv[i + 1])) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

export function parseCli(argv: string[]): CliRequest {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinValues(argv),
      allowPositionals: true,
      strict: true,
      options: {
        entry: { type: 'string' }, mode: { type: 'string' }, batch: { type: 'string' }, seq: { type: 'string' },
        dim: { type: 'string', multiple: true }, input: { type: 'string', multiple: true }, dtype: { type: 'string' }, optimizer: { type: 'string' },
        budget: { type: 'string' }, json: { type: 'boolean' }, trace: { type: 'string' }, run: { type: 'boolean' },
        ep: { type: 'string' }, runtime: { type: 'string' }, runs: { type: 'string' }, timeout: { type: 'string' }, write: { type: 'boolean' },
        out: { type: 'string' }, force: { type: 'boolean' }, python: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new MemlensError(`${(e as Error).message.split('\n')[0].slice(0, 200)} (memlens --help lists the options)`);
  }
  const { values: v, positionals } = parsed;
  if (v.help) throw new MemlensError(USAGE, 0);
  const [command, file, ...extra] = positionals;
  if (!command || !file) throw new MemlensError('expected a command and a model file: memlens <profile|suggest|fit> <file> (memlens --help lists the options)');
  if (command !== 'profile' && command !== 'suggest' && command !== 'fit') throw new MemlensError(`unknown command '${command.slice(0, 80)}': expected profile, suggest or fit (memlens --help lists the options)`);
  if (extra.length) throw new MemlensError(`unexpected argument '${extra[0]}'`);

  const mode = v.mode === undefined ? 'infer' : MODE_WORDS.get(v.mode);
  if (!mode) throw new MemlensError(`--mode: expected infer or train, got '${v.mode}'`);
  const dtype: Precision | undefined = v.dtype === undefined ? undefined : oneOf('--dtype', PRECISIONS, v.dtype);
  const optimizer: OptimizerKind | undefined = v.optimizer === undefined ? undefined : oneOf('--optimizer', OPTIMIZERS, v.optimizer);
  const ep = v.ep === undefined ? 'auto' : oneOf('--ep', PROVIDER_CHOICES, v.ep);
  const runtime: MeasureRuntime | undefined = v.runtime === undefined ? undefined : oneOf('--runtime', ['torch', 'onnxruntime'] as const, v.runtime);
  // Null prototype: a dim named `constructor` or `__proto__` is a dim like any other.
  const dims: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const d of v.dim ?? []) {
    const m = /^([^=]+)=(\d+)$/.exec(d);
    if (!m) throw new MemlensError(`--dim: expected name=N or input:axis=N, got '${d}'`);
    dims[m[1]] = positiveInt(m[2], `--dim ${m[1]}`);
  }
  const inputValues: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const d of v.input ?? []) {
    const m = /^([^=]+)=(-?\d+(?:\.\d+)?(?:e-?\d+)?)$/i.exec(d);
    if (!m) throw new MemlensError(`--input: expected name=V with a number V, got '${d}'`);
    inputValues[m[1]] = Number(m[2]);
  }
  if (command === 'fit' && v.budget === undefined) throw new MemlensError('fit: --budget is required (e.g. --budget 8GiB)');
  if (v.write && v.out) throw new MemlensError('fit: use --write or --out, not both');

  const settings = withDefaults({
    mode,
    ...(v.batch !== undefined ? { batch: positiveInt(v.batch, '--batch') } : {}),
    ...(v.seq !== undefined ? { seq: positiveInt(v.seq, '--seq') } : {}),
    ...(dtype !== undefined ? { dtype } : {}),
    ...(optimizer !== undefined ? { optimizer } : {}),
    dims,
    ...(Object.keys(inputValues).length > 0 ? { inputValues } : {}),
    explicit: [...(v.batch !== undefined ? ['batch' as const] : []), ...(v.seq !== undefined ? ['seq' as const] : [])],
  });
  return {
    command,
    file,
    entry: v.entry,
    settings,
    given: { batch: v.batch !== undefined, seq: v.seq !== undefined, optimizer: v.optimizer !== undefined },
    budget: v.budget !== undefined ? parseBytes(v.budget, '--budget') : undefined,
    json: v.json ?? false,
    trace: v.trace,
    run: v.run ?? false,
    ...(runtime !== undefined ? { runtime } : {}),
    ep,
    runs: v.runs !== undefined ? positiveInt(v.runs, '--runs') : 3,
    timeoutMs: (v.timeout !== undefined ? positiveInt(v.timeout, '--timeout') : 120) * 1000,
    write: v.write ?? false,
    out: v.out,
    force: v.force ?? false,
    python: v.python,
  };
}
