// Child processes started in their own process group, so stopping one also ends everything it
// started (code-server forks its server, extension hosts, file watchers and pty hosts).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { sleep, TimeoutError, waitUntil, withTimeout } from './wait';

export interface GroupMember {
  readonly pid: number;
  readonly command: string;
}

const OUTPUT_TAIL_CHARS = 16_000;

interface ProcStat {
  readonly pid: number;
  readonly command: string;
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
}

/** Every process's /proc/<pid>/stat, parsed; processes that exit while we look are skipped. */
function readProcStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Format: pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    stats.push({
      pid: Number(entry),
      command: stat.slice(stat.indexOf('(') + 1, close),
      state: fields[0],
      ppid: Number(fields[1]),
      pgrp: Number(fields[2]),
    });
  }
  return stats;
}

const isLive = (p: ProcStat): boolean => p.state !== 'Z' && p.state !== 'X';

/** Live (non-zombie) processes in a process group. */
export function processGroupMembers(pgid: number): GroupMember[] {
  return readProcStats()
    .filter((p) => p.pgrp === pgid && isLive(p))
    .map(({ pid, command }) => ({ pid, command }));
}

/** Live (non-zombie) direct children of a process, e.g. a browser left running by this one. */
export function liveChildren(ppid: number): GroupMember[] {
  return readProcStats()
    .filter((p) => p.ppid === ppid && isLive(p))
    .map(({ pid, command }) => ({ pid, command }));
}

// Process groups still running; killed outright if the test process exits without stopping them.
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export interface StartOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Where stdout and stderr are appended, for reading after a failure. */
  readonly logFile: string;
}

export class ManagedProcess {
  private tail = '';
  private exitCode: number | null | undefined;
  private readonly exitedPromise: Promise<number | null>;

  private constructor(
    readonly name: string,
    readonly pid: number,
    readonly logFile: string,
    child: ReturnType<typeof spawn>,
  ) {
    const log = fs.createWriteStream(logFile, { flags: 'a' });
    const record = (chunk: Buffer): void => {
      log.write(chunk);
      this.tail = (this.tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', record);
    child.stderr?.on('data', record);
    this.exitedPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal === null ? null : -1);
        resolve(this.exitCode);
      });
      child.once('error', (error) => {
        record(Buffer.from(`\n[harness] could not start ${name}: ${error.message}\n`));
        this.exitCode = -1;
        resolve(-1);
      });
    });
    void this.exitedPromise.then(() => log.end());
  }

  static start(name: string, command: string, args: readonly string[], options: StartOptions): ManagedProcess {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true, // its own process group, see stop()
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) {
      throw new Error(`e2e harness: could not start ${name} (${command})`);
    }
    liveGroups.add(child.pid);
    return new ManagedProcess(name, child.pid, options.logFile, child);
  }

  /** The last part of what the process printed, for error messages. */
  output(): string {
    return this.tail;
  }

  get exited(): Promise<number | null> {
    return this.exitedPromise;
  }

  hasExited(): boolean {
    return this.exitCode !== undefined;
  }

  /** Live processes left in this process's group (the process itself and anything it started). */
  members(): GroupMember[] {
    return processGroupMembers(this.pid);
  }

  /**
   * SIGTERM to the whole group, then SIGKILL after `graceMs`; resolves once no process of the group
   * is left, and throws if any survives SIGKILL.
   */
  async stop(graceMs = 5_000): Promise<void> {
    const signalGroup = (signal: NodeJS.Signals): void => {
      try {
        process.kill(-this.pid, signal);
      } catch {
        // the group is already empty
      }
    };
    const groupEmpty = (): boolean => this.members().length === 0;
    signalGroup('SIGTERM');
    try {
      await waitUntil(`${this.name} to exit after SIGTERM`, graceMs, groupEmpty, 100);
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
      signalGroup('SIGKILL');
      try {
        await waitUntil(`${this.name} to exit after SIGKILL`, 5_000, groupEmpty, 100);
      } catch {
        const left = this.members().map((m) => `${m.pid} ${m.command}`).join(', ');
        throw new Error(`e2e harness: ${this.name} left processes running after SIGKILL: ${left}`);
      }
    }
    liveGroups.delete(this.pid);
    // Let the exit event arrive so the log stream closes before the caller reads the file.
    await Promise.race([this.exitedPromise, sleep(1_000)]);
  }
}

/** Runs a command to completion within `timeoutMs`; throws with its output tail when it fails. */
export async function runToCompletion(
  name: string,
  command: string,
  args: readonly string[],
  options: StartOptions & { readonly timeoutMs: number },
): Promise<string> {
  const proc = ManagedProcess.start(name, command, args, options);
  let code: number | null;
  try {
    code = await withTimeout(`${name} to finish`, options.timeoutMs, proc.exited);
  } catch (error) {
    await proc.stop(1_000);
    throw new Error(`e2e harness: ${(error as Error).message}\n--- ${name} output (${proc.logFile}) ---\n${proc.output()}`);
  }
  await proc.stop(1_000);
  if (code !== 0) {
    throw new Error(`e2e harness: ${name} exited with ${code}\n--- output (${proc.logFile}) ---\n${proc.output()}`);
  }
  return proc.output();
}
