// The kept Python worker (bridge/python_worker.py), one per interpreter: it imports torch once and
// runs each request (`python ARGV`) in a child it forks, so the request starts with torch loaded and
// with a fresh module namespace (the user's file is read again). It runs under the supervisor as a
// kept child: the memory limit and process-tree kill over its whole life, the time limit and
// cancellation per request. A limit ends the whole worker (the next request starts another);
// cancelling kills only the request's fork, and the worker stays warm.
import { count, nullable, num, object, oneOf, str, type Checked } from '../../extension/process/check';
import { superviseKept, type Answer, type KeptChild } from '../../extension/process/supervisor';

export const checkWorkerReply = object({
  kind: oneOf(['done'] as const),
  id: count,
  /** The fork's exit code; null when a signal ended it. */
  code: nullable(num),
  /** The signal number that ended the fork. */
  signal: nullable(num),
  workerPid: count,
  childPid: count,
  /** Requests this worker has run, this one included. */
  served: count,
  torch: nullable(str),
  /** How long the worker took to import torch, once, at its start. */
  importMs: num,
  runMs: num,
});
export type WorkerReply = Checked<typeof checkWorkerReply>;

export interface WorkerRequest {
  kind: 'run';
  id: number;
  /** What would follow `python` on a command line. */
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

export interface WorkerLimits {
  timeoutMs: number;
  memoryBytes?: number;
  outputBytes: number;
  signal?: AbortSignal;
}

/** A kept worker idle this long is stopped (it holds torch, a few hundred MiB, in memory). */
const IDLE_MS = 10 * 60_000;

interface Kept {
  child: KeptChild<WorkerReply>;
  memoryBytes: number | undefined;
  /** What this worker's interpreter answered once (see perWorker). */
  answers: Map<string, unknown>;
}

const workers = new Map<string, Kept>();
/** Requests to each interpreter's worker, one after another. */
const queues = new Map<string, Promise<unknown>>();
let nextId = 1;

/** Runs `python argv...` in the interpreter's kept worker, starting one when none is alive. */
export function runInWorker(python: string, bridge: string, argv: string[], cwd: string, env: Record<string, string>, limits: WorkerLimits): Promise<Answer<WorkerReply>> {
  const next = (queues.get(python) ?? Promise.resolve()).then(async () => {
    const kept = await workerFor(python, bridge, limits.memoryBytes, limits.outputBytes);
    const request: WorkerRequest = { kind: 'run', id: nextId++, argv, cwd, env };
    // A cancelled request ends its fork, not the worker: the next edit's export starts at once.
    const onAbort = () => kept.child.cancelRequest();
    limits.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await kept.child.ask(request, limits.timeoutMs, limits.signal);
    } finally {
      limits.signal?.removeEventListener('abort', onAbort);
    }
  });
  queues.set(python, next.catch(() => undefined));
  return next;
}

async function workerFor(python: string, bridge: string, memoryBytes: number | undefined, outputBytes: number): Promise<Kept> {
  let kept = workers.get(python);
  // A cancelled request may still be ending; the worker takes one at a time.
  await kept?.child.free();
  if (kept && (!kept.child.alive || kept.memoryBytes !== memoryBytes)) {
    if (kept.child.alive) await kept.child.stop();
    kept = undefined;
  }
  if (kept) return kept;
  const child = superviseKept<WorkerReply>({
    what: `Python worker (${python})`,
    program: { kind: 'exec', command: python, args: [bridge] },
    limits: { timeoutMs: IDLE_MS, memoryBytes, outputBytes },
    env: { PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
    userCode: true,
    messages: checkWorkerReply,
  });
  const fresh: Kept = { child, memoryBytes, answers: new Map() };
  workers.set(python, fresh);
  return fresh;
}

/**
 * `ask`'s answer, asked once per kept worker of the interpreter and kept for as long as that worker
 * lives: for what the worker's own state decides (the torch it imported, which every fork of it
 * runs), so it cannot change before the worker ends. A failure is not kept.
 */
export async function perWorker<T>(python: string, key: string, ask: () => Promise<T>): Promise<T> {
  const before = workers.get(python);
  if (before?.child.alive && before.answers.has(key)) return before.answers.get(key) as T;
  const value = await ask();
  const now = workers.get(python);
  if (now?.child.alive) now.answers.set(key, value);
  return value;
}

/** Ends every kept Python worker; the next warm run starts a new one. */
export async function stopPythonWorkers(): Promise<void> {
  const all = [...workers.values()];
  workers.clear();
  await Promise.all(all.filter((k) => k.child.alive).map((k) => k.child.stop()));
}
