// Runs a model on ONNX Runtime in a child process (worker.ts) under the supervisor: a time limit,
// a memory limit on the resident memory of the process and cancellation end it, and a crash of the
// runtime ends only the child. Every ending becomes one MemlensError line.
import * as fs from 'fs';
import * as path from 'path';
import { MemlensError } from '../engine/errors';
import { endingError, lastLine, oneLine } from '../process/ending';
import { defaultMemoryLimit, superviseChild, type ChildRun } from '../process/supervisor';
import { queryDeviceMemory } from './gpu-memory';
import { checkWorkerMessage } from './messages';
import { PROVIDER_CHOICES, type ProviderChoice, type RunRequest, type RunResult, type WorkerMessage, type WorkerRequest, type WorkerStart } from './types';
import { makeRunDir, removeRunDir } from '../process/run-dir';

export interface RunOptions {
  timeoutMs: number;
  /**
   * Kill the run when its RSS goes over this, and refuse up front when the weights alone do;
   * default three quarters of the machine's memory.
   */
  memoryLimitBytes?: number;
  signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL when stopping a run; 2 s by default. */
  killGraceMs?: number;
  /** Called with the run process's pid once it is started. */
  onStart?: (pid: number) => void;
}

export const DEFAULT_RUNS = 3;
export const DEFAULT_SEED = 1234;
const GPU_POLL_MS = 500;
const STDERR_TAIL = 4096;

export async function runModel(request: RunRequest, options: RunOptions): Promise<RunResult> {
  const ep = request.ep ?? 'auto';
  const runs = request.runs ?? DEFAULT_RUNS;
  validate(ep, runs, options);
  if (options.signal?.aborted) throw new MemlensError('model run cancelled');
  const workDir = makeRunDir('memlens-run-');
  try {
    const workerRequest = makeWorkerRequest(request, ep, runs, options, workDir);
    return await supervise(workerRequest, options);
  } finally {
    removeRunDir(workDir);
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
    optimisedSessions: Math.max(1, Math.floor(request.optimisedSessions ?? 1)),
    memoryLimitBytes: options.memoryLimitBytes ?? defaultMemoryLimit(),
    workDir,
  };
}

function workerPath(): string {
  const file = path.join(__dirname, 'worker.js');
  if (!fs.existsSync(file)) throw new Error(`internal: run worker not found at ${file} (build it beside run.js)`);
  return file;
}

async function supervise(req: WorkerRequest, options: RunOptions): Promise<RunResult> {
  let stage = 'starting';
  const device = new DevicePeak(req.ep === 'auto' || req.ep === 'cuda');
  const start: WorkerStart = { type: 'run', request: req };
  const run = await superviseChild<WorkerMessage>({
    what: 'model run',
    program: { kind: 'node', module: workerPath(), request: start },
    limits: { timeoutMs: options.timeoutMs, memoryBytes: req.memoryLimitBytes ?? undefined, killGraceMs: options.killGraceMs, outputBytes: STDERR_TAIL },
    // ONNX Runtime's telemetry writes `.ses` and `mat-debug-<pid>.log` into TMPDIR and a device
    // id under ~/.cache on every run; it is off, and TMPDIR is the run's own directory anyway.
    env: { ORT_DISABLE_TELEMETRY: '1' },
    tempDir: req.workDir,
    signal: options.signal,
    messages: checkWorkerMessage,
    onMessage: (m) => {
      if (m.type === 'stage') stage = m.stage;
    },
    onStart: (pid) => {
      options.onStart?.(pid);
      device.watch(pid);
    },
  });
  device.stop();
  const outcome = settle(run, stage);
  const warnings = [...outcome.warnings];
  if (options.memoryLimitBytes !== undefined && run.peakRssBytes === null) {
    warnings.push(`the memory limit was not enforced: /proc/${run.pid}/status could not be read on ${process.platform}`);
  }
  return { ...outcome, warnings, rssPeakBytes: run.peakRssBytes, deviceMemory: device.figures() };
}

/** Device memory of the run process, polled from nvidia-smi while it runs (CUDA allocations are outside its RSS). */
class DevicePeak {
  private peak: number | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly wanted: boolean) {}

  watch(pid: number): void {
    if (!this.wanted) return;
    this.timer = setInterval(() => {
      void queryDeviceMemory(pid).then((b) => {
        if (b !== null) this.peak = Math.max(this.peak ?? 0, b);
      });
    }, GPU_POLL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  figures(): RunResult['deviceMemory'] {
    return this.peak === null ? null : { peakBytes: this.peak, source: 'nvidia-smi' };
  }
}

/** The worker's figures, or the one line that says why there are none. */
function settle(run: ChildRun<WorkerMessage>, stage: string): Omit<RunResult, 'rssPeakBytes' | 'deviceMemory'> {
  const detail = { context: `while ${stage}`, lastError: lastLine(run.stderr.text) };
  const stopped = run.ending.kind !== 'exited' && run.ending.kind !== 'signalled';
  if (stopped) throw endingError('model run', run.ending, detail);
  const reply = run.reply;
  if (reply?.type === 'result') return reply.result;
  if (reply?.type === 'error') {
    throw new MemlensError(oneLine(reply.userError ? reply.message : `model run failed with an internal error: ${reply.message}`));
  }
  if (run.ending.kind === 'exited' && run.ending.code === 0) {
    throw new MemlensError(`model run exited with code 0 without sending its figures (while ${stage})`);
  }
  throw endingError('model run', run.ending, detail);
}
