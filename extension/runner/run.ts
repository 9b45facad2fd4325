// Runs a model on ONNX Runtime in a child process and watches it from outside: a time limit,
// a memory limit on the child's RSS and cancellation end it (SIGTERM, then SIGKILL after a grace
// period), and a crash of the runtime ends only the child. Every ending becomes one MemlensError.
import { fork } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MemlensError } from '../engine/errors';
import { formatBytes } from '../engine/units';
import { formatSeconds } from './format';
import { queryDeviceMemory } from './gpu-memory';
import { readProcMemory } from './proc-memory';
import { PROVIDER_CHOICES, type ProviderChoice, type RunRequest, type RunResult, type WorkerMessage, type WorkerRequest, type WorkerStart } from './types';

export interface RunOptions {
  timeoutMs: number;
  /** Kill the run when its RSS goes over this, and refuse up front when the weights alone do. */
  memoryLimitBytes?: number;
  signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL when stopping a run; 2 s by default. */
  killGraceMs?: number;
  /** Called with the run process's pid once it is started. */
  onStart?: (pid: number) => void;
}

export const DEFAULT_RUNS = 3;
const DEFAULT_SEED = 1234;
const RSS_POLL_MS = 25;
const GPU_POLL_MS = 500;
const STDERR_TAIL = 4096;

type Stop = { kind: 'timeout' } | { kind: 'memory'; rss: number } | { kind: 'cancelled' };

export async function runModel(request: RunRequest, options: RunOptions): Promise<RunResult> {
  const ep = request.ep ?? 'auto';
  const runs = request.runs ?? DEFAULT_RUNS;
  validate(ep, runs, options);
  if (options.signal?.aborted) throw new MemlensError('model run cancelled');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-run-'));
  try {
    const workerRequest = makeWorkerRequest(request, ep, runs, options, workDir);
    return await supervise(workerRequest, options);
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

function validate(ep: string, runs: number, options: RunOptions): void {
  if (!PROVIDER_CHOICES.includes(ep as ProviderChoice)) {
    throw new MemlensError(`unknown execution provider '${ep}' (use one of ${PROVIDER_CHOICES.join(', ')})`);
  }
  if (!Number.isInteger(runs) || runs < 1) throw new MemlensError(`--runs must be a whole number of at least 1, got ${runs}`);
  if (!(options.timeoutMs > 0)) throw new MemlensError(`the run time limit must be positive, got ${options.timeoutMs} ms`);
  if (options.memoryLimitBytes !== undefined && !(options.memoryLimitBytes > 0)) {
    throw new MemlensError(`the memory limit must be positive, got ${options.memoryLimitBytes} bytes`);
  }
}

function makeWorkerRequest(
  request: RunRequest, ep: ProviderChoice, runs: number, options: RunOptions, workDir: string,
): WorkerRequest {
  let modelPath: string;
  let baseDir: string | null;
  let where: string;
  if ('path' in request.model) {
    modelPath = path.resolve(request.model.path);
    if (!fs.existsSync(modelPath)) throw new MemlensError(`${request.model.path}: no such file`);
    baseDir = path.dirname(modelPath);
    where = request.model.path;
  } else {
    modelPath = path.join(workDir, 'model.onnx');
    fs.writeFileSync(modelPath, request.model.bytes);
    baseDir = null;
    where = request.model.name ?? 'model';
  }
  return {
    modelPath,
    baseDir,
    where,
    ep,
    runs,
    settings: request.settings ?? {},
    dims: request.dims ?? {},
    seed: request.seed ?? DEFAULT_SEED,
    optimised: request.optimised ?? true,
    memoryLimitBytes: options.memoryLimitBytes ?? null,
    workDir,
  };
}

function workerPath(): string {
  const file = path.join(__dirname, 'worker.js');
  if (!fs.existsSync(file)) throw new Error(`internal: run worker not found at ${file} (build it beside run.js)`);
  return file;
}

function supervise(req: WorkerRequest, options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = fork(workerPath(), [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [] });
    let stage = 'starting';
    let stop: Stop | null = null;
    let message: WorkerMessage | null = null;
    let stderr = '';
    let peakRss: number | null = null;
    let rssReadable = false;
    let devicePeak: number | null = null;
    const timers: NodeJS.Timeout[] = [];

    const kill = (why: Stop, immediately: boolean) => {
      if (stop) return;
      stop = why;
      child.kill(immediately ? 'SIGKILL' : 'SIGTERM');
      if (!immediately) timers.push(setTimeout(() => child.kill('SIGKILL'), options.killGraceMs ?? 2000));
    };

    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-STDERR_TAIL);
    });
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'stage') stage = m.stage;
      else message = m;
    });

    const pid = child.pid;
    if (pid !== undefined) {
      options.onStart?.(pid);
      timers.push(setInterval(() => {
        const mem = readProcMemory(pid);
        if (!mem) return;
        rssReadable = true;
        peakRss = Math.max(peakRss ?? 0, mem.peakRssBytes);
        if (options.memoryLimitBytes !== undefined && mem.rssBytes > options.memoryLimitBytes) {
          kill({ kind: 'memory', rss: mem.rssBytes }, true);
        }
      }, RSS_POLL_MS));
      if (req.ep === 'auto' || req.ep === 'cuda') {
        timers.push(setInterval(() => {
          void queryDeviceMemory(pid).then((b) => {
            if (b !== null) devicePeak = Math.max(devicePeak ?? 0, b);
          });
        }, GPU_POLL_MS));
      }
    }
    timers.push(setTimeout(() => kill({ kind: 'timeout' }, false), options.timeoutMs));
    const onAbort = () => kill({ kind: 'cancelled' }, false);
    options.signal?.addEventListener('abort', onAbort, { once: true });

    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      options.signal?.removeEventListener('abort', onAbort);
      const outcome = settle(stop, message, code, signal, stage, stderr, options);
      if (outcome instanceof Error) return reject(outcome);
      const warnings = [...outcome.warnings];
      if (options.memoryLimitBytes !== undefined && !rssReadable) {
        warnings.push(`the memory limit was not enforced: /proc/${pid}/status could not be read on ${process.platform}`);
      }
      resolve({ ...outcome, warnings, rssPeakBytes: peakRss, deviceMemory: devicePeak === null ? null : { peakBytes: devicePeak, source: 'nvidia-smi' } });
    };
    child.on('exit', finish);
    child.on('error', (e) => {
      // Only a failed start leaves no exit event to wait for.
      stderr += `\n${e.message}`;
      if (child.pid === undefined) finish(null, null);
    });

    const start: WorkerStart = { type: 'run', request: req };
    child.send(start, (err) => {
      if (err) stderr += `\ncannot start the run: ${err.message}`;
    });
  });
}

function settle(
  stop: Stop | null,
  message: WorkerMessage | null,
  code: number | null,
  signal: NodeJS.Signals | null,
  stage: string,
  stderr: string,
  options: RunOptions,
): Omit<RunResult, 'rssPeakBytes' | 'deviceMemory'> | Error {
  if (stop?.kind === 'timeout') return new MemlensError(`model run timed out after ${formatSeconds(options.timeoutMs)} (while ${stage})`);
  if (stop?.kind === 'cancelled') return new MemlensError(`model run cancelled (while ${stage})`);
  if (stop?.kind === 'memory') {
    return new MemlensError(
      `model run exceeded the memory limit of ${formatBytes(options.memoryLimitBytes ?? 0)} (RSS ${formatBytes(stop.rss)}, while ${stage})`,
    );
  }
  if (message?.type === 'result') return message.result;
  if (message?.type === 'error') return message.userError ? new MemlensError(message.message) : new Error(message.message);
  if (signal === 'SIGKILL') {
    return new MemlensError(`model run was killed (signal SIGKILL, most likely out of memory) while ${stage}`);
  }
  if (signal) return new MemlensError(`model run crashed (signal ${signal}) while ${stage}`);
  const last = lastLine(stderr);
  return new MemlensError(`model run exited with code ${code} while ${stage}${last ? `: ${last}` : ''}`);
}

function lastLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- strips the ANSI colour codes (ESC [ ... m) of child output
  const lines = text.split('\n').map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim()).filter(Boolean);
  const line = lines[lines.length - 1] ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
