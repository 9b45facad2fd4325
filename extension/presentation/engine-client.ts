// Starts the engine worker (engine-worker.ts, a worker thread) and asks it for profiles, under the
// supervisor's limits: a time limit per request, cancellation, and a V8 heap limit (the heap limit
// the supervisor gives a Node child; threads share the host's RSS, so no RSS limit applies). A
// cancelled request is answered at once; a worker that does not stop within CANCEL_GRACE_MS (stuck
// in synchronous work, which only termination can stop) is terminated, and the requests it still
// had are sent again to a new one. A profile may answer in two steps: its first figures, then the
// whole profile (onFirst).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ProfileOutcome, ProfileRequest } from '../analysis/profile-file';
import type { PlanOutcome, SuggestionSet, SuggestRequest } from '../analysis/suggest-file';
import type { PlanTarget } from '../engine/suggest/planner';
import type { ModelKind } from '../analysis/model-kind';
import type { ModelEntry } from './model-entries';
import type { SourceLanguage, SuggestionPlacement } from '../../language/source-rewrites';
import type { Suggestion } from '../engine/suggest/types';
import { MemlensError } from '../engine/errors';
import { endingMessage, type Ending } from '../process/ending';
import { defaultMemoryLimit, heapLimitBytes } from '../process/supervisor';
import type { MeasureRequest } from './editor-api';
import type { FirstFigures } from '../engine/analyze';
import { nullPrototype, type CallKind, type WorkerCalls, type WorkerError, type WorkerMessage, type WorkerReply } from './engine-protocol';

/** After a cancel, how long the worker may take to stop on its own before it is terminated. */
export const CANCEL_GRACE_MS = 500;
/** Time limit of static discovery and placement (no user code; ts-morph on a large file). */
export const DISCOVERY_TIMEOUT_MS = 60_000;
const MIB = 2 ** 20;

interface Pending {
  what: string;
  /** The request, kept to send again if its worker is replaced while it waits or runs. */
  message: WorkerMessage;
  /** Receives a two-step call's first figures. */
  first?: (figures: FirstFigures) => void;
  /** Starts the time limit: when the worker begins the request, not while it waits behind others. */
  start: () => void;
  resolve: (result: WorkerCalls[CallKind]['result']) => void;
  reject: (e: Error) => void;
  done: () => void;
}

/** The worker's file: next to this code in the bundle (dist/) and in the tsc output alike. */
export function engineWorkerFile(): string {
  const file = path.join(__dirname, 'engine-worker.js');
  if (!fs.existsSync(file)) throw new Error(`MemLens engine worker not found at ${file}`);
  return file;
}

function abortError(): Error {
  const e = new Error('cancelled');
  e.name = 'AbortError';
  return e;
}

/** The error a reply carries, rebuilt with its name (MemlensError marks the user's one line). */
function replyError(error: WorkerError): Error {
  const e = error.name === 'MemlensError' ? new MemlensError(error.message, 2, error.at ?? null) : new Error(error.message);
  e.name = error.name;
  if (error.stack) e.stack = error.stack;
  return e;
}

/** A reply's profile settings with their dim table null-prototype again (see nullPrototype). */
function restoreDims(settings: { dims: Record<string, number> }): void {
  settings.dims = nullPrototype(settings.dims);
}

/** The result with its dim tables null-prototype again (see nullPrototype). */
function withDimTables(reply: Extract<WorkerReply, { kind: 'done' }>): WorkerCalls[CallKind]['result'] {
  if (reply.call === 'profile' || reply.call === 'measure') restoreDims(reply.result.profile.settings);
  else if (reply.call === 'fit') {
    const settings = reply.result.plan.chosen.settings;
    if (settings.dims) settings.dims = nullPrototype(settings.dims);
  }
  return reply.result;
}

export class EngineClient {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Cancelled requests the worker has not answered yet. */
  private readonly stillBusy = new Set<number>();

  constructor(private readonly heapBytes = heapLimitBytes(defaultMemoryLimit())) {}

  /** With `onFirst`, the first figures come to it before the promise settles (unless cancelled first). */
  profile(req: ProfileRequest): Promise<ProfileOutcome> {
    const { signal, onFirst, ...request } = req;
    return this.ask('profile', { ...request, first: onFirst !== undefined }, req.file, req.timeoutMs, signal, onFirst);
  }

  measure(req: MeasureRequest): Promise<ProfileOutcome> {
    const { signal, onFirst, ...request } = req;
    // Loading and the run each have the time limit.
    return this.ask('measure', { ...request, first: onFirst !== undefined }, req.file, 2 * req.timeoutMs, signal, onFirst);
  }

  /** Suggestions re-analyse the graph once per candidate: the same limits as a profile. */
  suggest(req: SuggestRequest): Promise<SuggestionSet> {
    const { signal, ...request } = req;
    return this.ask('suggest', request, req.file, req.timeoutMs, signal);
  }

  fit(req: SuggestRequest, budgetBytes: number, target: PlanTarget): Promise<PlanOutcome> {
    const { signal, ...request } = req;
    return this.ask('fit', { ...request, budgetBytes, target }, req.file, req.timeoutMs, signal);
  }

  entries(kind: ModelKind, file: string, text: string, signal?: AbortSignal): Promise<ModelEntry[]> {
    return this.ask('entries', { kind, file, text }, file, DISCOVERY_TIMEOUT_MS, signal);
  }

  /** Each suggestion's placement in `text`, in the order given (null where it has no place). */
  place(language: SourceLanguage, suggestions: Suggestion[], file: string, text: string, modelFile: string): Promise<(SuggestionPlacement | null)[]> {
    return this.ask('place', { language, suggestions, file, text, modelFile }, file, DISCOVERY_TIMEOUT_MS);
  }

  /** Whether a worker thread is running now (for tests). */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Stops the kept children through the worker, then the worker. */
  async stop(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage({ id: 0, kind: 'stop' } satisfies WorkerMessage);
    const timer = setTimeout(() => void w.terminate(), 3000);
    await exited;
    clearTimeout(timer);
  }

  private ask<K extends CallKind>(
    kind: K, request: WorkerCalls[K]['request'], file: string, timeoutMs: number, signal?: AbortSignal, first?: (figures: FirstFigures) => void,
  ): Promise<WorkerCalls[K]['result']> {
    if (signal?.aborted) return Promise.reject(abortError());
    const what = `analysing ${path.basename(file)}`;
    const worker = this.started();
    const message = { id: this.nextId++, kind, request } as WorkerMessage;
    return new Promise<WorkerCalls[K]['result']>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const start = () => {
        timer ??= setTimeout(() => this.fail(message.id, { kind: 'timeout', limitMs: timeoutMs }, true), timeoutMs);
      };
      const onAbort = () => this.cancel(message.id);
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(message.id);
        if (this.pending.size === 0) this.worker?.unref();
      };
      // The reply to this id is the result of this call (WorkerReply pairs them).
      this.pending.set(message.id, { what, message, first, start, resolve, reject, done });
      worker.ref();
      worker.postMessage(message);
    });
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(engineWorkerFile(), { resourceLimits: { maxOldGenerationSizeMb: Math.floor(this.heapBytes / MIB) } });
    worker.on('message', (reply: WorkerReply) => this.settle(reply));
    worker.on('error', (e: Error & { code?: string }) => {
      const ending: Ending = e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? { kind: 'heap', heapLimitBytes: this.heapBytes } : { kind: 'exited', code: 1 };
      this.failAll(worker, ending, e.message);
    });
    worker.on('exit', (code) => this.failAll(worker, { kind: 'exited', code }));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private settle(reply: WorkerReply): void {
    if (reply.kind === 'started') return this.pending.get(reply.id)?.start();
    if (reply.kind === 'first') {
      const first = this.pending.get(reply.id)?.first;
      if (first) restoreDims(reply.result.settings);
      return first?.(reply.result);
    }
    this.stillBusy.delete(reply.id);
    const p = this.pending.get(reply.id);
    if (!p) return; // cancelled or timed out already
    p.done();
    if (reply.kind === 'done') p.resolve(withDimTables(reply));
    else p.reject(replyError(reply.error));
  }

  /** Answers the caller at once; terminates the worker if the request is still running after the grace. */
  private cancel(id: number): void {
    const p = this.pending.get(id);
    const worker = this.worker;
    if (!p || !worker) return;
    worker.postMessage({ id, kind: 'cancel' } satisfies WorkerMessage);
    this.stillBusy.add(id);
    p.done();
    p.reject(abortError());
    // Synchronous work (a graph pass) never reads the signal: only termination stops it.
    const grace = setTimeout(() => {
      if (this.worker === worker && this.stillBusy.has(id)) this.replace(worker);
    }, CANCEL_GRACE_MS);
    grace.unref();
  }

  private fail(id: number, ending: Ending, terminate: boolean): void {
    const p = this.pending.get(id);
    if (!p || !this.worker) return;
    const line = endingMessage(p.what, ending);
    p.done();
    p.reject(new MemlensError(line));
    if (terminate) this.replace(this.worker);
  }

  /**
   * Stops `worker` mid-computation (a cancelled or timed-out request's synchronous pass) and sends
   * the requests it still had to a new worker: they are reads of files, so running one again from
   * its start gives the same result. Their time limits keep counting from when they first began.
   */
  private replace(worker: Worker): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.stillBusy.clear();
    void worker.terminate();
    const left = [...this.pending.values()];
    if (left.length === 0) return;
    const next = this.started();
    next.ref();
    for (const p of left) next.postMessage(p.message);
  }

  private failAll(worker: Worker, ending: Ending, lastError?: string): void {
    this.forget(worker, (p) => endingMessage(p.what, ending, { lastError }));
  }

  /** Forgets `worker` (the next request starts a new one) and fails what it still had. */
  private forget(worker: Worker, line: (p: Pending) => string): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.stillBusy.clear();
    for (const p of [...this.pending.values()]) {
      p.done();
      p.reject(new MemlensError(line(p)));
    }
  }
}
