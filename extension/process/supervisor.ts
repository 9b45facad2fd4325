// The one way MemLens runs a child process (the ONNX Runtime run, the TypeScript tracer, the
// Python export, system tools). The child leads its own process group and gets its own temp
// directory; the supervisor watches it from outside:
// - a time limit and cancellation (AbortSignal): SIGTERM to the whole run, SIGKILL after a grace;
// - a memory limit on the resident memory of the child and all its descendants (/proc), and for
//   Node children a V8 heap limit below it, so running out of either reads "out of memory";
// - output kept as a tail of a fixed size per stream;
// - IPC messages checked before anyone reads them;
// - the end is the child's exit status, not its pipes closing: a daemon the model started that
//   holds them open does not make a finished run look hung. Whatever the child leaves running
//   (its group, its descendants, and for user code any process carrying the run's marker) is
//   killed when it ends, and its temp directory is removed (or, when this process is killed first,
//   swept by a later one: run-dir.ts).
// Every ending is a typed `Ending`; `endingMessage` makes the user's one line from it.
import { fork, spawn, type ChildProcess } from 'child_process';
import { randomBytes } from 'crypto';
import * as os from 'os';
import { MemlensError } from '../engine/errors';
import { runCheck, type Check } from './check';
import type { Ending } from './ending';
import { TailBuffer, type OutputTail } from './output-tail';
import { ProcessTree } from './process-tree';
import { makeRunDir, removeRunDir } from './run-dir';

export interface Limits {
  timeoutMs: number;
  /** Resident bytes of the child and its descendants together; default `defaultMemoryLimit()`. */
  memoryBytes?: number;
  /** Bytes kept of each of stdout and stderr (the tail); default 64 KiB. */
  outputBytes?: number;
  /** Between SIGTERM and SIGKILL when stopping a run; default 2 s. */
  killGraceMs?: number;
}

export type Program =
  /** A Node module started with fork: it gets `request` as its first IPC message. */
  | { kind: 'node'; module: string; request: unknown; serialization?: 'json' | 'advanced' }
  | { kind: 'exec'; command: string; args: string[] };

export interface ChildSpec<M> {
  /** Names what ran in every message: `model run`, `tracing model.ts`, `model.py: export`. */
  what: string;
  program: Program;
  limits: Limits;
  cwd?: string;
  /** Added to (and overriding) the caller's environment. */
  env?: Record<string, string>;
  /** The child's TMPDIR; default a directory made for this run and removed after it. */
  tempDir?: string;
  /** The child runs the user's code: at its end, processes that left its group are searched for too. */
  userCode?: boolean;
  signal?: AbortSignal;
  /** Check of every IPC message; the first invalid one stops the child. */
  messages?: Check<M>;
  onMessage?: (message: M) => void;
  onStart?: (pid: number) => void;
}

export interface ChildRun<M> {
  ending: Ending;
  /** The last valid IPC message. */
  reply: M | null;
  stdout: OutputTail;
  stderr: OutputTail;
  /** The child's own VmHWM (the most it ever held), as last sampled; null when /proc was not readable. */
  peakRssBytes: number | null;
  /** The largest resident total of the child and its descendants seen. */
  treePeakRssBytes: number | null;
  elapsedMs: number;
  pid: number | null;
}

const POLL_MS = 25;
/** Descendants are looked for every this many polls (reading each thread's children costs more). */
const DISCOVER_EVERY = 4;
const DEFAULT_OUTPUT_BYTES = 64 * 1024;
const DEFAULT_GRACE_MS = 2000;
/** After the exit, how long the pipes may take to deliver what the child wrote. */
const DRAIN_MS = 1000;
/** After SIGKILL, how long to wait for an exit that a process in uninterruptible sleep may never make. */
const ABANDON_MS = 5000;
/** Node prints this when V8 cannot grow the heap past --max-old-space-size, then aborts. */
const V8_HEAP_EXHAUSTED = 'JavaScript heap out of memory';
const MIB = 2 ** 20;

/** Three quarters of the machine's memory: a child that grows past it is stopped, not the machine. */
export function defaultMemoryLimit(): number {
  return Math.floor(os.totalmem() * 0.75);
}

/**
 * The V8 old-space limit of a Node child: half the memory limit, so a heap that grows without end
 * runs out with V8's own clear cause before the process (code, buffers, new space) reaches the limit.
 */
export function heapLimitBytes(memoryBytes: number): number {
  return Math.max(64, Math.floor((memoryBytes * 0.5) / MIB)) * MIB;
}

export function superviseChild<M = never>(spec: ChildSpec<M>): Promise<ChildRun<M>> {
  checkLimits(spec.what, spec.limits);
  return new Promise((resolve) => new Supervision(spec, resolve, false).start());
}

/** One request to a kept child: its reply, or how the child ended before replying. */
export type Answer<M> = ({ reply: M } | { ending: Ending }) & { stdout: OutputTail; stderr: OutputTail; elapsedMs: number; pid: number | null };

/**
 * A child kept alive between requests (a warm worker) under the same limits as any other:
 * the memory limit and process-tree kill over its whole life, a time limit and cancellation per
 * request (either stops the child: the user's code may be stuck in a loop), and `limits.timeoutMs`
 * as the idle time after which it is stopped. Processes a request started are killed at its reply. While idle it holds no reference on the caller's
 * event loop, so a caller that is done can exit.
 */
export interface KeptChild<M> {
  /**
   * Sends one request; one at a time (see `free`). Cancelling answers the caller at once with a
   * `cancelled` ending but leaves the request to finish, within its time limit, so the worker
   * stays warm for the next one.
   */
  ask(request: unknown, timeoutMs: number, signal?: AbortSignal): Promise<Answer<M>>;
  /** Resolves once no request is in flight (a cancelled one may still be running). */
  free(): Promise<void>;
  /**
   * Ends the request in flight without ending the child: SIGKILL to every process of the tree
   * but the child itself (for a worker that runs each request in a process of its own, such as
   * the Python worker's fork). The worker then replies for the killed request as it would for
   * any request that ended, and stays warm.
   */
  cancelRequest(): void;
  readonly alive: boolean;
  /** Stops the child (SIGTERM, then SIGKILL after the grace); resolves once it has ended. */
  stop(): Promise<ChildRun<M>>;
}

/** What a kept child runs: a Node module, or any program that speaks Node's JSON IPC (newline-
 * delimited JSON on the descriptor named by NODE_CHANNEL_FD), such as the Python worker. */
export type KeptProgram = { kind: 'node'; module: string; serialization?: 'json' | 'advanced' } | { kind: 'exec'; command: string; args: string[] };

export function superviseKept<M>(spec: Omit<ChildSpec<M>, 'signal' | 'program'> & { program: KeptProgram }): KeptChild<M> {
  checkLimits(spec.what, spec.limits);
  let supervision!: Supervision<M>;
  const ended = new Promise<ChildRun<M>>((resolve) => {
    const program: Program = spec.program.kind === 'node' ? { ...spec.program, request: null } : spec.program;
    supervision = new Supervision({ ...spec, program }, resolve, true);
  });
  supervision.start();
  return {
    ask: (request, timeoutMs, signal) => supervision.ask(request, timeoutMs, signal),
    free: () => supervision.free(),
    cancelRequest: () => supervision.cancelRequest(),
    get alive() {
      return supervision.alive;
    },
    stop: () => {
      supervision.halt({ kind: 'cancelled' }, false);
      return ended;
    },
  };
}

interface Asking<M> {
  resolve: (a: Answer<M>) => void;
  /** The caller has its answer (the reply, an ending, or `cancelled` while the request runs on). */
  answered: boolean;
  stdout: TailBuffer;
  stderr: TailBuffer;
  started: number;
  timer: NodeJS.Timeout;
  signal?: AbortSignal;
  onAbort: () => void;
  done: Promise<void>;
  markDone: () => void;
}

function checkLimits(what: string, limits: Limits): void {
  if (!(limits.timeoutMs > 0) || !Number.isFinite(limits.timeoutMs)) throw new MemlensError(`${what}: the time limit must be positive, got ${limits.timeoutMs} ms`);
  if (limits.memoryBytes !== undefined && !(limits.memoryBytes > 0)) {
    throw new MemlensError(`${what}: the memory limit must be positive, got ${limits.memoryBytes} bytes`);
  }
}

class Supervision<M> {
  private readonly memoryBytes: number;
  private readonly stdout: TailBuffer;
  private readonly stderr: TailBuffer;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly started = Date.now();
  private readonly ownTemp: string | null;
  private readonly marker = `MEMLENS_RUN=${process.pid}-${randomBytes(8).toString('hex')}`;
  private child: ChildProcess | null = null;
  private tree: ProcessTree | null = null;
  private stop: Ending | null = null;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private reply: M | null = null;
  private peakRss: number | null = null;
  private treePeak: number | null = null;
  private polls = 0;
  private settled = false;
  private readonly onAbort = () => this.halt({ kind: 'cancelled' }, false);
  private asking: Asking<M> | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** How the child ended, once it has. */
  private ended: Ending | null = null;

  constructor(private readonly spec: ChildSpec<M>, private readonly resolve: (run: ChildRun<M>) => void, private readonly kept: boolean) {
    this.memoryBytes = spec.limits.memoryBytes ?? defaultMemoryLimit();
    const cap = spec.limits.outputBytes ?? DEFAULT_OUTPUT_BYTES;
    this.stdout = new TailBuffer(cap);
    this.stderr = new TailBuffer(cap);
    this.ownTemp = spec.tempDir ? null : makeRunDir('memlens-child-');
  }

  start(): void {
    if (this.spec.signal?.aborted) return this.finish({ kind: 'cancelled' });
    let child: ChildProcess;
    try {
      child = this.launch();
    } catch (e) {
      return this.finish({ kind: 'not-started', reason: e instanceof Error ? e.message : String(e), notFound: false });
    }
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => {
      this.stdout.push(d);
      this.asking?.stdout.push(d);
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr.push(d);
      this.asking?.stderr.push(d);
    });
    child.on('message', (m: unknown) => this.receive(m));
    child.on('error', (e: NodeJS.ErrnoException) => {
      // Only a failed start leaves no exit event to wait for.
      if (child.pid === undefined) this.finish({ kind: 'not-started', reason: e.message, notFound: e.code === 'ENOENT' });
    });
    child.on('exit', (code, signal) => void this.exited(code, signal));
    if (child.pid === undefined) return;
    this.tree = new ProcessTree(child.pid, this.spec.userCode ? this.marker : null);
    this.spec.onStart?.(child.pid);
    this.poll();
    this.timers.push(setInterval(() => this.poll(), POLL_MS));
    if (this.kept) return this.idle();
    this.timers.push(setTimeout(() => this.halt({ kind: 'timeout', limitMs: this.spec.limits.timeoutMs }, false), this.spec.limits.timeoutMs));
    this.spec.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (this.spec.program.kind === 'node') {
      child.send(this.spec.program.request as object, (err) => {
        if (err) this.stderr.push(Buffer.from(`\ncannot send the request: ${err.message}\n`));
      });
    }
  }

  get alive(): boolean {
    return !this.settled && !this.stop && !this.exit;
  }

  ask(request: unknown, timeoutMs: number, signal?: AbortSignal): Promise<Answer<M>> {
    if (this.asking) throw new Error(`internal: ${this.spec.what}: a request is already in flight`);
    const cap = this.spec.limits.outputBytes ?? DEFAULT_OUTPUT_BYTES;
    return new Promise((resolve) => {
      let markDone = () => {};
      const done = new Promise<void>((r) => (markDone = r));
      const asking: Asking<M> = {
        resolve, answered: false, stdout: new TailBuffer(cap), stderr: new TailBuffer(cap), started: Date.now(), signal, done, markDone,
        timer: setTimeout(() => this.halt({ kind: 'timeout', limitMs: timeoutMs }, false), timeoutMs),
        onAbort: () => this.answer(asking, { ending: { kind: 'cancelled' } }),
      };
      if (!this.alive || signal?.aborted) return this.complete(asking, { ending: this.stop ?? this.ended ?? { kind: 'cancelled' } });
      this.asking = asking;
      this.setRef(true);
      signal?.addEventListener('abort', asking.onAbort, { once: true });
      try {
        this.child!.send(request as object, (err) => {
          if (err) this.stderr.push(Buffer.from(`\ncannot send the request: ${err.message}\n`));
        });
      } catch (e) {
        // No channel: the start failed, and its ending answers the request.
        this.stderr.push(Buffer.from(`\ncannot send the request: ${e instanceof Error ? e.message : String(e)}\n`));
      }
    });
  }

  free(): Promise<void> {
    return this.asking?.done ?? Promise.resolve();
  }

  cancelRequest(): void {
    if (!this.asking || !this.alive) return;
    this.tree?.signal('SIGKILL', this.spec.userCode ?? false, true);
  }

  /** Gives the caller its answer, once. */
  private answer(a: Asking<M>, r: { reply: M } | { ending: Ending }): void {
    if (a.answered) return;
    a.answered = true;
    a.resolve({ ...r, stdout: a.stdout.tail(), stderr: a.stderr.tail(), elapsedMs: Date.now() - a.started, pid: this.child?.pid ?? null });
  }

  /** The request is over: its reply came or the child ended. */
  private complete(a: Asking<M>, r: { reply: M } | { ending: Ending }): void {
    clearTimeout(a.timer);
    a.signal?.removeEventListener('abort', a.onAbort);
    if (this.asking === a) this.asking = null;
    this.answer(a, r);
    a.markDone();
  }

  /** Between requests: the idle limit runs, and the child keeps the caller's event loop no longer alive. */
  private idle(): void {
    this.idleTimer = setTimeout(() => this.halt({ kind: 'timeout', limitMs: this.spec.limits.timeoutMs }, false), this.spec.limits.timeoutMs);
    this.setRef(false);
  }

  private setRef(on: boolean): void {
    if (on && this.idleTimer) clearTimeout(this.idleTimer);
    const handles: ({ ref(): unknown; unref(): unknown } | null | undefined)[] = [
      this.child, this.child?.channel, this.child?.stdout as { ref(): unknown; unref(): unknown } | null, this.child?.stderr as { ref(): unknown; unref(): unknown } | null,
      ...this.timers, this.idleTimer,
    ];
    for (const h of handles) {
      if (on) h?.ref();
      else h?.unref();
    }
  }

  private launch(): ChildProcess {
    const temp = this.spec.tempDir ?? this.ownTemp!;
    const [markerName, markerValue] = this.marker.split('=');
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.spec.env, TMPDIR: temp, TMP: temp, TEMP: temp, [markerName]: markerValue };
    const program = this.spec.program;
    const common = { cwd: this.spec.cwd, env, detached: true, windowsHide: true };
    // A kept program of any kind speaks over the IPC channel (JSON lines for a non-Node program).
    if (program.kind === 'exec') return spawn(program.command, program.args, { ...common, stdio: ['ignore', 'pipe', 'pipe', ...(this.kept ? ['ipc' as const] : [])], serialization: 'json' });
    return fork(program.module, [], {
      ...common,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: program.serialization ?? 'json',
      execArgv: [`--max-old-space-size=${heapLimitBytes(this.memoryBytes) / MIB}`],
    });
  }

  private receive(message: unknown): void {
    if (this.stop) return;
    const check = this.spec.messages;
    const checked = check ? runCheck(check, message) : { ok: false as const, reason: 'the child sent a message where none was expected' };
    if (!checked.ok) return this.halt({ kind: 'invalid-message', reason: checked.reason }, true);
    this.reply = checked.value;
    this.spec.onMessage?.(checked.value);
    const asking = this.asking;
    if (this.kept && asking) {
      this.complete(asking, { reply: checked.value });
      // What this request's user code started does not outlive the request.
      this.tree?.signal('SIGKILL', this.spec.userCode ?? false, true);
      this.idle();
    }
  }

  private poll(): void {
    const tree = this.tree;
    if (!tree || this.exit) return;
    if (this.polls++ % DISCOVER_EVERY === 0) tree.discover();
    const mem = tree.memory();
    if (!mem.readable) return;
    this.peakRss = Math.max(this.peakRss ?? 0, mem.rootPeakBytes ?? 0);
    this.treePeak = Math.max(this.treePeak ?? 0, mem.residentBytes);
    if (mem.residentBytes > this.memoryBytes) {
      this.halt({ kind: 'memory', limitBytes: this.memoryBytes, residentBytes: mem.residentBytes }, true);
    }
  }

  /** Stops the run for `why`: SIGKILL at once, or SIGTERM and SIGKILL after the grace period. */
  halt(why: Ending, immediately: boolean): void {
    if (this.stop || this.exit || this.settled) return;
    this.stop = why;
    this.signalAll(immediately ? 'SIGKILL' : 'SIGTERM');
    if (!immediately) this.timers.push(setTimeout(() => this.signalAll('SIGKILL'), this.spec.limits.killGraceMs ?? DEFAULT_GRACE_MS));
  }

  private signalAll(sig: NodeJS.Signals): void {
    this.tree?.signal(sig, this.spec.userCode ?? false);
    try {
      this.child?.kill(sig);
    } catch {
      // gone already
    }
    if (sig === 'SIGKILL' && !this.exit) this.timers.push(setTimeout(() => this.finish(this.stop ?? { kind: 'signalled', signal: 'SIGKILL' }), ABANDON_MS));
  }

  private async exited(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    this.exit = { code, signal };
    for (const t of this.timers) clearTimeout(t);
    // Nothing the child started outlives it.
    this.tree?.signal('SIGKILL', this.spec.userCode ?? false);
    await this.drained();
    this.finish(this.stop ?? this.endingOf(code, signal));
  }

  /** Waits until stdout, stderr and the IPC channel have closed, or DRAIN_MS. */
  private drained(): Promise<void> {
    const child = this.child!;
    const waits: Promise<void>[] = [];
    for (const s of [child.stdout, child.stderr]) {
      if (s && !s.destroyed && !s.readableEnded) waits.push(new Promise((r) => s.once('close', () => r())));
    }
    if (child.connected) waits.push(new Promise((r) => child.once('disconnect', () => r())));
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((r) => (timer = setTimeout(r, DRAIN_MS)));
    return Promise.race([Promise.all(waits).then(() => undefined), limit]).finally(() => clearTimeout(timer));
  }

  private endingOf(code: number | null, signal: NodeJS.Signals | null): Ending {
    const heapOut = this.spec.program.kind === 'node' && this.stderr.tail().text.includes(V8_HEAP_EXHAUSTED);
    if (heapOut && (signal !== null || code !== 0)) return { kind: 'heap', heapLimitBytes: heapLimitBytes(this.memoryBytes) };
    if (signal) return { kind: 'signalled', signal };
    return { kind: 'exited', code: code ?? 1 };
  }

  private finish(ending: Ending): void {
    if (this.settled) return;
    this.settled = true;
    this.ended = ending;
    for (const t of this.timers) clearTimeout(t);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.asking) this.complete(this.asking, { ending });
    this.spec.signal?.removeEventListener('abort', this.onAbort);
    this.child?.stdout?.destroy();
    this.child?.stderr?.destroy();
    if (this.child?.connected) this.child.disconnect();
    if (this.ownTemp) removeRunDir(this.ownTemp);
    this.resolve({
      ending,
      reply: this.reply,
      stdout: this.stdout.tail(),
      stderr: this.stderr.tail(),
      peakRssBytes: this.peakRss,
      treePeakRssBytes: this.treePeak,
      elapsedMs: Date.now() - this.started,
      pid: this.child?.pid ?? null,
    });
  }
}
