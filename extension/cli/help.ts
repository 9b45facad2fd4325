// The CLI's own texts: the overall usage, one usage per command, the version, and the one-line
// hint for an option the parser does not know.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEVICES, MODES, OPTIMIZERS, PRECISIONS, TRAIN_STEPS, ZERO_GRADS } from '../engine/settings';
import { PROVIDER_CHOICES } from '../runner/types';

export type Command = 'profile' | 'suggest' | 'fit';
export const COMMANDS: readonly Command[] = ['profile', 'suggest', 'fit'];

const SUMMARY: Record<Command, string> = {
  profile: 'where the memory goes: peak, breakdown, top lines',
  suggest: 'memory-saving rewrites with their predicted saving and cost',
  fit: 'the cheapest set of rewrites that fits --budget',
};

/** Options every command reads, then the ones only some commands read. */
const COMMON = `  --entry NAME            model entry in a .ts/.py file (default: the first one)
  --mode ${MODES.join('|')}      inference (default, or what the entry declares) or one training step
  --batch N --seq N       batch size and sequence length (defaults 1 and 128); in a decode
                          step --seq is the new tokens
  --past N                cached positions of a decode step (past_sequence dims; the
                          total_sequence dims take past + seq); unset: the sequence length
  --dim name=N            bind any symbolic dimension (repeatable); input:axis=N sizes
                          an axis that has no name (e.g. --dim input:0=1)
  --input name=V          the value of a one-element input (e.g. --input sr=16000): folded
                          like a constant, so an If on it takes its branch; fed to --run
  --branch NODE=then|else the branch If node NODE runs, when its condition is not known
                          statically (repeatable; default: the larger branch, with a warning)
  --dtype ${PRECISIONS.join('|')}  compute precision (training: mixed precision with fp32 master weights)
  --optimizer ${OPTIMIZERS.join('|')}   (training; default adamw)
  --device ${DEVICES.join('|')}       (training) where the step runs: dropout keeps a bool mask on
                          CUDA, float noise on CPU; the optimizer's default implementation
  --step ${TRAIN_STEPS.join('|')}       (training) a later step, or the first (state made in step())
  --zero-grad ${ZERO_GRADS.join('|')}   (training) zero_grad(set_to_none=True), or False (kept)
  --budget SIZE           with a unit: 24GiB, 8GB, 512MiB, 1073741824B; exit code 3 when the peak is over it
  --timeout SECONDS       time limit for tracing, export and runs (default 120)
  --python PATH           Python interpreter for .py models
  --hide-below SHARE|SIZE per-line figures of the table under it are not shown: 0.1%
                          of the peak (default), a size (1MiB), or 0 for all (--json keeps all)
  --json                  print the result as JSON`;

const PER_COMMAND: Record<Command, string> = {
  profile: `  --trace FILE            write the memory timeline as Chrome trace / Perfetto JSON
  --run                   also run the model and measure it: .py models in PyTorch (training
                          steps in --mode train), others on ONNX Runtime
  --runtime torch|onnxruntime   what --run runs on (default: torch for .py, else onnxruntime)
  --ep ${PROVIDER_CHOICES.join('|')}   execution provider; only auto falls back to cpu
  --runs N                measured runs or steps (default 3)
  --optimised             also estimate ONNX Runtime's default session (optimisation level 'all'):
                          ONNX Runtime writes its optimised graph in a child process, and the
                          estimate follows that graph (done anyway by --run on onnxruntime)`,
  suggest: '',
  fit: `  --write | --out PATH    apply the plan in place, or write the rewritten model to PATH
  --force                 replace PATH when it exists (never the model read)`,
};

const EXIT_CODES = 'exit codes: 0 ok, 2 bad input or usage, 3 peak over --budget';

export const USAGE = `usage: memlens <command> <file> [options]

commands:
${COMMANDS.map((c) => `  ${`${c} <file>`.padEnd(17)}${SUMMARY[c]}`).join('\n')}
  help [command]   this text, or one command's options
  --version        the version

options:
${COMMON}
${COMMANDS.filter((c) => PER_COMMAND[c]).map((c) => `${c}:\n${PER_COMMAND[c]}`).join('\n')}

${EXIT_CODES}`;

export function commandUsage(c: Command): string {
  return [`usage: memlens ${c} <file> [options]`, '', SUMMARY[c], '', 'options:', COMMON, PER_COMMAND[c], '', EXIT_CODES].filter((l, i, a) => l !== '' || a[i - 1] !== '').join('\n');
}

/** The version in the package.json above this file (out/extension/cli or dist/). */
export function version(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'memlens' && pkg.version) return pkg.version;
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

/** The known option closest to `given` by edit distance, when it is close enough to be a typo. */
export function nearestOption(given: string, known: readonly string[]): string | null {
  let best: string | null = null, bestD = Infinity;
  for (const k of known) {
    const d = editDistance(given, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== null && bestD <= Math.max(2, Math.floor(given.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}
