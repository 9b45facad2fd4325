// traceFile: traces one entry of a TypeScript model file in a child process (the user's code
// runs there, under the supervisor's time and memory limits) and returns the ONNX Model with the
// entry's description.
import * as path from 'path';
import type { DType, Model } from '../../extension/engine/graph';
import { MemlensError } from '../../extension/engine/errors';
import { decodeModel } from '../../extension/engine/onnx/decode';
import { endingError, lastLine, oneLine } from '../../extension/process/ending';
import { superviseChild } from '../../extension/process/supervisor';
import type { Config } from './api/entry';
import type { EntryDescription } from './api/trace-model';
import { displayPath } from './display-path';
import { checkTraceReply, type TraceReply, type TraceRequest } from './trace-protocol';

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
  const run = await superviseChild<TraceReply>({
    what,
    program: { kind: 'node', module: path.join(__dirname, 'trace-worker.js'), request, serialization: 'advanced' },
    limits: { timeoutMs: options.timeoutMs ?? DEFAULT_TRACE_TIMEOUT_MS, memoryBytes: options.memoryLimitBytes, outputBytes: OUTPUT_TAIL_BYTES },
    userCode: true,
    signal: options.signal,
    messages: checkTraceReply,
  });
  const reply = run.reply;
  // The worker exits once it has replied; a reply stands unless a limit stopped the run.
  if (!reply || !(run.ending.kind === 'exited' || run.ending.kind === 'signalled')) {
    throw endingError(what, run.ending, { lastError: lastLine(run.stderr.text) });
  }
  if (!reply.ok) throw new MemlensError(oneLine(reply.message));
  return {
    file: absolute,
    model: decodeModel(reply.model, displayPath(absolute)),
    entry: reply.description,
    entries: reply.entries,
    output: run.stdout.text,
    elapsedMs: run.elapsedMs,
  };
}

/** Ends the kept trace worker, if any (none is kept yet: each trace starts its own). */
export function stopTraceWorker(): Promise<void> {
  return Promise.resolve();
}
