// Command-line arguments -> a typed request. Usage errors are MemlensErrors (exit 2).
import { parseArgs } from 'node:util';
import { MemlensError } from '../engine/errors';
import { branchOfWord, DEVICES, MODES, OPTIMIZERS, PRECISIONS, TRAIN_STEPS, ZERO_GRADS, withDefaults, type AnalysisSettings, type IfBranch, type Mode, type OptimizerKind, type Precision } from '../engine/settings';
import { parseBytes } from '../engine/units';
import { PROVIDER_CHOICES, type ProviderChoice } from '../runner/types';
import type { GivenSettings } from '../analysis/load-model';
import type { MeasureRuntime } from '../analysis/profile-file';
import { COMMANDS, commandUsage, nearestOption, USAGE, version, type Command } from './help';
import { DEFAULT_HIDE_BELOW, parseThreshold, type FigureThreshold } from '../presentation/figure-threshold';

export { USAGE, type Command };


export interface CliRequest {
  command: Command;
  file: string;
  entry?: string;
  settings: AnalysisSettings;
  /** The settings given as flags; a Python script decides the others for itself. */
  given: GivenSettings;
  budget?: number;
  /** `--hide-below`: per-line figures of the table under it are not shown (the JSON keeps all). */
  hideBelow: FigureThreshold;
  json: boolean;
  trace?: string;
  run: boolean;
  /** Also estimate ONNX Runtime's default-optimised session (always with an ONNX Runtime run). */
  optimised: boolean;
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

/** `--past 0` is a prefill: no cached positions. */
function wholeNumber(v: string, flag: string): number {
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new MemlensError(`${flag}: expected a whole number (0 or more), got '${v}'`);
  return Number(v);
}

const VALUE_FLAGS = new Set(['--entry', '--mode', '--batch', '--seq', '--dim', '--input', '--branch', '--dtype', '--optimizer', '--device', '--step', '--zero-grad', '--past', '--hide-below', '--budget', '--trace', '--ep', '--runtime', '--runs', '--timeout', '--out', '--python']);

/** `--batch -1` as `--batch=-1`: a value that looks like a flag is still the value, so its check names it. */
function joinValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (VALUE_FLAGS.has(argv[i]) && i + 1 < argv.length && /^-\d|^-$/.test(argv[i + 1])) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

/** `--branch NODE=then|else` (repeatable): the branch each named If runs; the node name may hold '='. */
function branchPins(given: string[] | undefined): Partial<AnalysisSettings> {
  if (!given?.length) return {};
  const branches = Object.create(null) as Record<string, IfBranch>;
  for (const g of given) {
    const at = g.lastIndexOf('=');
    if (at <= 0) throw new MemlensError(`--branch: expected NODE=then or NODE=else (an If node's name), got '${g.slice(0, 80)}'`);
    const [name, word] = [g.slice(0, at), g.slice(at + 1)];
    const branch = branchOfWord(word);
    if (!branch) throw new MemlensError(`--branch ${name.slice(0, 80)}: expected then or else, got '${word.slice(0, 40)}'`);
    if (Object.hasOwn(branches, name) && branches[name] !== branch) throw new MemlensError(`--branch ${name.slice(0, 80)}: given both then and else; pin one`);
    branches[name] = branch;
  }
  return { branches };
}

/** `--device`, `--step`, `--zero-grad`: the training step's settings, where given. */
function trainingStepFlags(v: { device?: string; step?: string; 'zero-grad'?: string }): Partial<AnalysisSettings> {
  return {
    ...(v.device !== undefined ? { device: oneOf('--device', DEVICES, v.device) } : {}),
    ...(v.step !== undefined ? { step: oneOf('--step', TRAIN_STEPS, v.step) } : {}),
    ...(v['zero-grad'] !== undefined ? { zeroGrad: oneOf('--zero-grad', ZERO_GRADS, v['zero-grad']) } : {}),
  };
}

const OPTIONS = {
  entry: { type: 'string' }, mode: { type: 'string' }, batch: { type: 'string' }, seq: { type: 'string' }, past: { type: 'string' },
  'hide-below': { type: 'string' },
  dim: { type: 'string', multiple: true }, input: { type: 'string', multiple: true }, branch: { type: 'string', multiple: true }, dtype: { type: 'string' }, optimizer: { type: 'string' },
  device: { type: 'string' }, step: { type: 'string' }, 'zero-grad': { type: 'string' },
  budget: { type: 'string' }, json: { type: 'boolean' }, trace: { type: 'string' }, run: { type: 'boolean' }, optimised: { type: 'boolean' },
  ep: { type: 'string' }, runtime: { type: 'string' }, runs: { type: 'string' }, timeout: { type: 'string' }, write: { type: 'boolean' },
  out: { type: 'string' }, force: { type: 'boolean' }, python: { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' },
} as const;

const isCommand = (c: string | undefined): c is Command => (COMMANDS as readonly (string | undefined)[]).includes(c);

/** Node's parser errors are several lines; the user gets one, with the nearest known option. */
function parseOrExplain(argv: string[]) {
  try {
    return parseArgs({ args: joinValues(argv), allowPositionals: true, strict: true, options: OPTIONS });
  } catch (e) {
    const command = argv.find((a) => !a.startsWith('-'));
    const helpFor = isCommand(command) ? `memlens ${command} --help` : 'memlens help';
    const unknown = /^Unknown option '([^']+)'/.exec((e as Error).message);
    if (unknown) {
      const near = nearestOption(unknown[1].replace(/^-+/, ''), Object.keys(OPTIONS));
      throw new MemlensError(`unknown option '${unknown[1]}'${near ? ` (did you mean --${near}?)` : ''}; see ${helpFor}`);
    }
    throw new MemlensError(`${(e as Error).message.split('\n')[0].replace(/ To specify a positional argument.*$/, '')}; see ${helpFor}`);
  }
}

/** `--version`, `help [command]` and `--help`: texts printed with exit 0. */
function helpRequest(v: { help?: boolean; version?: boolean }, positionals: string[]): void {
  if (v.version) throw new MemlensError(`memlens ${version()}`, 0);
  const [command, topic] = positionals;
  if (command === 'help') {
    if (topic === undefined) throw new MemlensError(USAGE, 0);
    if (!isCommand(topic)) throw new MemlensError(`help: unknown command '${topic}' (commands: ${COMMANDS.join(', ')})`);
    throw new MemlensError(commandUsage(topic), 0);
  }
  if (v.help) throw new MemlensError(isCommand(command) ? commandUsage(command) : USAGE, 0);
}

export function parseCli(argv: string[]): CliRequest {
  const { values: v, positionals } = parseOrExplain(argv);
  helpRequest(v, positionals);
  const [command, file, ...extra] = positionals;
  if (!command) throw new MemlensError('expected a command and a model file: memlens <profile|suggest|fit> <file>; see memlens help');
  if (!isCommand(command)) throw new MemlensError(`unknown command '${command.slice(0, 80)}' (commands: ${COMMANDS.join(', ')}); see memlens help`);
  if (!file) throw new MemlensError(`${command}: a model file is required; see memlens ${command} --help`);
  if (extra.length) throw new MemlensError(`unexpected argument '${extra[0]}'; see memlens ${command} --help`);

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
    ...(v.past !== undefined ? { past: wholeNumber(v.past, '--past') } : {}),
    ...(dtype !== undefined ? { dtype } : {}),
    ...(optimizer !== undefined ? { optimizer } : {}),
    ...trainingStepFlags(v),
    dims,
    ...(Object.keys(inputValues).length > 0 ? { inputValues } : {}),
    ...branchPins(v.branch),
    explicit: [...(v.batch !== undefined ? ['batch' as const] : []), ...(v.seq !== undefined ? ['seq' as const] : [])],
  });
  return {
    command,
    file,
    entry: v.entry,
    settings,
    given: { mode: v.mode !== undefined, batch: v.batch !== undefined, seq: v.seq !== undefined, optimizer: v.optimizer !== undefined },
    budget: v.budget !== undefined ? parseBudget(v.budget) : undefined,
    hideBelow: parseThreshold(v['hide-below'] ?? DEFAULT_HIDE_BELOW, '--hide-below'),
    json: v.json ?? false,
    trace: v.trace,
    run: v.run ?? false,
    optimised: v.optimised ?? false,
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

/** A bare number is refused: "--budget 2" meant 2 GiB far more often than 2 bytes. */
function parseBudget(text: string): number {
  if (/^\s*\d+(?:\.\d+)?\s*$/.test(text)) throw new MemlensError(`--budget: '${text}' has no unit; write it with one, e.g. ${text.trim()}GiB, ${text.trim()}GB or ${text.trim()}B`);
  return parseBytes(text, '--budget');
}
