// traceFile: traces one entry of a TypeScript model file in a child process (the user's code
// runs there, under a time limit) and returns the ONNX Model with the entry's description.
import { fork } from 'child_process';
import * as path from 'path';
import type { DType, Model } from '../../extension/engine/graph';
import { MemlensError } from '../../extension/engine/errors';
import { decodeModel } from '../../extension/engine/onnx/decode';
import type { Config } from './api/entry';
import type { EntryDescription } from './api/trace-model';
import { displayPath } from './display-path';
import type { TraceReply, TraceRequest } from './trace-protocol';

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
}

export interface TraceResult {
  file: string;
  model: Model;
  entry: EntryDescription;
  /** Every entry the file exports, by name. */
  entries: string[];
  /** What the model file printed. */
  output: string;
  elapsedMs: number;
}

export const DEFAULT_TRACE_TIMEOUT_MS = 30_000;

export function traceFile(file: string, entry: string | undefined, options: TraceFileOptions = {}): Promise<TraceResult> {
  const absolute = path.resolve(file);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TRACE_TIMEOUT_MS;
  const request: TraceRequest = {
    file: absolute,
    ...(entry !== undefined ? { entry } : {}),
    materialize: options.materialize ?? false,
    seed: options.seed ?? 0,
    ...(options.dtype ? { dtype: options.dtype } : {}),
    ...(options.config ? { config: options.config } : {}),
    ...(options.weights ? { weights: path.resolve(options.weights) } : {}),
  };
  const started = Date.now();
  return new Promise<TraceResult>((resolve, reject) => {
    const child = fork(path.join(__dirname, 'trace-worker.js'), [], {
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: [],
    });
    let output = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      fn();
    };
    const onAbort = () => finish(() => reject(new MemlensError(`tracing ${path.basename(absolute)} was cancelled`)));
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(() => reject(new MemlensError(`tracing ${path.basename(absolute)} timed out after ${formatSeconds(timeoutMs)} s`)));
    }, timeoutMs);
    child.on('message', (reply: TraceReply) => {
      finish(() => {
        if (!reply.ok) {
          reject(new MemlensError(reply.message));
          return;
        }
        try {
          resolve({
            file: absolute,
            model: decodeModel(reply.model, displayPath(absolute)),
            entry: reply.description,
            entries: reply.entries,
            output,
            elapsedMs: Date.now() - started,
          });
        } catch (e) {
          reject(e);
        }
      });
    });
    child.on('error', (e) => finish(() => reject(new MemlensError(`tracing ${displayPath(absolute)}: cannot start the tracer (${e.message})`))));
    child.on('exit', (code, signal) => {
      finish(() => {
        const last = stderr.trim().split('\n').filter(Boolean).pop() ?? '';
        const why = signal ? `was killed (${signal})` : `exited with code ${code}`;
        reject(new MemlensError(`tracing ${displayPath(absolute)}: the tracer ${why}${last ? `: ${last}` : ''}`));
      });
    });
    child.send(request);
  });
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return Number.isInteger(s) ? String(s) : s.toFixed(1);
}
