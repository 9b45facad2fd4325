// traceFile: traces one entry of a TypeScript model file in a child process (the user's code
// runs there, under the supervisor's time and memory limits) and returns the ONNX Model with the
// entry's description.
import { createHash } from 'crypto';
import * as path from 'path';
import type { DType, Model } from '../../extension/engine/graph';
import { MemlensError } from '../../extension/engine/errors';
import { decodeModel } from '../../extension/engine/onnx/decode';
import { endingError, lastLine, oneLine } from '../../extension/process/ending';
import { superviseChild, superviseKept, type Answer, type KeptChild } from '../../extension/process/supervisor';
import type { Config } from './api/entry';
import type { EntryDescription } from './api/trace-model';
import { displayPath } from './display-path';
import { checkTraceReply, KEPT_ENV, type TraceReply, type TraceRequest } from './trace-protocol';

export interface TraceFileOptions {
  /** Kill the trace after this long (default 30 000 ms). */
  timeoutMs?: number;
  /** Give weights bytes (seeded random init) so the graph runs; default shapes only. */
  materialize?: boolean;
  seed?: number;
  /** Parameter dtype for layers that do not set one (default float32). */
  dtype?: DType;
  /** Overrides of the entry's config fields (`{ layers: 2 }`). */
  config?: Config;
  /** `.safetensors` weights to load by parameter name (implies materialize). */
  weights?: string;
  /** Cancels the trace: the child is killed and the promise rejects. */
  signal?: AbortSignal;
  /** Resident bytes the tracer and what it starts may hold; default three quarters of the machine's memory. */
  memoryLimitBytes?: number;
  /**
   * Trace in the kept worker (started on first use, then reused): TypeScript and the model API
   * stay loaded and unchanged files are not transpiled again. The editor sets it; the CLI traces
   * once and exits, so it starts a worker of its own.
   */
  keepWorker?: boolean;
}

export interface TraceResult {
  file: string;
  model: Model;
  entry: EntryDescription;
  /** Every entry the file exports, by name. */
  entries: string[];
  /** What the model file printed: the last OUTPUT_TAIL_BYTES of it. */
  output: string;
  elapsedMs: number;
  /** The process that traced: the same one for traces in the kept worker. */
  workerPid: number | null;
  /** The kept worker's last trace, given again: the request and its sources were unchanged (trace-reuse.ts). */
  reused: boolean;
  /** SHA-256 of the traced ONNX bytes: an equal graph's analysis can be reused. */
  graphHash: string;
}

export const DEFAULT_TRACE_TIMEOUT_MS = 30_000;
export const OUTPUT_TAIL_BYTES = 64 * 1024;

export async function traceFile(file: string, entry: string | undefined, options: TraceFileOptions = {}): Promise<TraceResult> {
  const absolute = path.resolve(file);
  const request: TraceRequest = {
    file: absolute,
    ...(entry !== undefined ? { entry } : {}),
    materialize: options.materialize ?? false,
    seed: options.seed ?? 0,
    ...(options.dtype ? { dtype: options.dtype } : {}),
    ...(options.config ? { config: options.config } : {}),
    ...(options.weights ? { weights: path.resolve(options.weights) } : {}),
  };
  const what = `tracing ${path.basename(absolute)}`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TRACE_TIMEOUT_MS;
  const answer = options.keepWorker ? await askKept(request, timeoutMs, options) : await traceOnce(what, request, timeoutMs, options);
  // A reply stands unless a limit stopped the run (a one-shot worker exits once it has replied).
  if (!('reply' in answer)) throw endingError(what, answer.ending, { lastError: lastLine(answer.stderr.text) });
  const reply = answer.reply;
  if (!reply.ok) throw new MemlensError(oneLine(reply.message), 2, reply.at ?? null);
  // A reused trace ran no code: what the model printed is what it printed when it last ran.
  const output = reply.reused ? keptOutput : answer.stdout.text;
  if (options.keepWorker) keptOutput = output;
  return {
    file: absolute,
    model: decodeModel(reply.model, displayPath(absolute)),
    entry: reply.description,
    entries: reply.entries,
    output,
    elapsedMs: answer.elapsedMs,
    workerPid: answer.pid,
    reused: reply.reused,
    graphHash: createHash('sha256').update(reply.model).digest('hex'),
  };
}

async function traceOnce(what: string, request: TraceRequest, timeoutMs: number, options: TraceFileOptions): Promise<Answer<TraceReply>> {
  const run = await superviseChild<TraceReply>({
    what,
    program: { kind: 'node', module: WORKER, request, serialization: 'advanced' },
    limits: { timeoutMs, memoryBytes: options.memoryLimitBytes, outputBytes: OUTPUT_TAIL_BYTES },
    userCode: true,
    signal: options.signal,
    messages: checkTraceReply,
  });
  const base = { stdout: run.stdout, stderr: run.stderr, elapsedMs: run.elapsedMs, pid: run.pid };
  if (run.reply && (run.ending.kind === 'exited' || run.ending.kind === 'signalled')) return { ...base, reply: run.reply };
  return { ...base, ending: run.ending };
}

const WORKER = path.join(__dirname, 'trace-worker.js');
/** A kept worker idle this long is stopped (it holds TypeScript and the model API in memory). */
const KEPT_IDLE_MS = 10 * 60_000;

let kept: { child: KeptChild<TraceReply>; memoryBytes: number | undefined } | null = null;
/** What the kept worker's last trace printed, given again with a reused trace. */
let keptOutput = '';
/** Requests to the kept worker, one after another. */
let queue: Promise<unknown> = Promise.resolve();

function askKept(request: TraceRequest, timeoutMs: number, options: TraceFileOptions): Promise<Answer<TraceReply>> {
  const next = queue.then(async () => {
    // A cancelled trace may still be running (it keeps the worker warm); wait for it.
    await kept?.child.free();
    if (kept && (!kept.child.alive || kept.memoryBytes !== options.memoryLimitBytes)) await stopTraceWorker();
    if (!kept) {
      const child = superviseKept<TraceReply>({
        what: 'TypeScript trace worker',
        program: { kind: 'node', module: WORKER, serialization: 'advanced' },
        limits: { timeoutMs: KEPT_IDLE_MS, memoryBytes: options.memoryLimitBytes, outputBytes: OUTPUT_TAIL_BYTES },
        env: { [KEPT_ENV]: '1' },
        userCode: true,
        messages: checkTraceReply,
      });
      kept = { child, memoryBytes: options.memoryLimitBytes };
    }
    return kept.child.ask(request, timeoutMs, options.signal);
  });
  queue = next.catch(() => undefined);
  return next;
}

/** Ends the kept trace worker, if one is running; the next kept trace starts a new one. */
export async function stopTraceWorker(): Promise<void> {
  const k = kept;
  kept = null;
  if (k?.child.alive) await k.child.stop();
}
