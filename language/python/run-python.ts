// Runs a Python process with a time limit. The child leads its own process group so that a
// timeout or a cancel kills everything the user's code started, not just the interpreter.
import { spawn } from 'node:child_process';
import { MemlensError } from '../../extension/engine/errors';

export interface PythonRun {
  code: number | null;
  stdout: string;
  /** The last lines of stderr (the user's prints and the exporter's warnings go there). */
  stderrTail: string;
}

const TAIL_BYTES = 16 * 1024;

export function runPython(
  python: string,
  args: string[],
  options: { timeoutMs: number; cwd: string; signal?: AbortSignal; what: string },
): Promise<PythonRun> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new MemlensError(`${options.what}: cancelled`));
      return;
    }
    const child = spawn(python, args, {
      cwd: options.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
    });
    let stdout = '';
    let stderr = '';
    let settled = false;
    child.stdout.on('data', (b: Buffer) => {
      stdout = (stdout + b.toString('utf8')).slice(-TAIL_BYTES);
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString('utf8')).slice(-TAIL_BYTES);
    });
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL'); // the group is gone already, or was never made
      }
    };
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const timer = setTimeout(() => {
      killGroup();
      finish(() => reject(new MemlensError(`${options.what}: stopped after ${formatSeconds(options.timeoutMs)} (time limit); the model's code did not finish`)));
    }, options.timeoutMs);
    const onAbort = () => {
      killGroup();
      finish(() => reject(new MemlensError(`${options.what}: cancelled`)));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e: NodeJS.ErrnoException) => {
      finish(() => reject(e.code === 'ENOENT'
        ? new MemlensError(`Python interpreter not found: ${python} (set memlens.pythonPath to a Python with torch installed)`)
        : new MemlensError(`cannot start ${python}: ${e.message}`)));
    });
    child.on('close', (code) => finish(() => resolve({ code, stdout, stderrTail: stderr })));
  });
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** The last non-empty line of a process's stderr, for errors that left no structured result. */
export function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length ? lines[lines.length - 1] : '';
}
