// Runs Python under the supervisor: a time limit, a memory limit on the interpreter and all it
// starts, bounded output, its own temp directory. The interpreter leads its own process group, and
// what the user's code leaves behind (subprocesses, `start_new_session` daemons) is killed when it
// exits; a daemon holding the pipes open does not keep a finished run waiting.
//
// runPythonJson is the form for scripts that answer with a JSON file: it checks the answer
// before anyone reads it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemlensError } from '../../extension/engine/errors';
import { runCheck, type Check } from '../../extension/process/check';
import { endingError, lastLine, oneLine } from '../../extension/process/ending';
import { superviseChild } from '../../extension/process/supervisor';
import { bridgeScript } from './bridge-path';
import { runInWorker } from './python-worker';
import { makeRunDir, removeRunDir } from '../../extension/process/run-dir';

export interface PythonOptions {
  /** Names the run in messages: `model.py: export`, `checking for PyTorch`. */
  what: string;
  cwd: string;
  timeoutMs: number;
  /** Resident bytes of the interpreter and its descendants; default three quarters of the machine's memory. */
  memoryLimitBytes?: number;
  signal?: AbortSignal;
  /** The interpreter's TMPDIR (the caller removes it); default a directory made and removed for the run. */
  tempDir?: string;
  env?: Record<string, string>;
  /**
   * Run in the interpreter's kept worker (python-worker.ts): torch is already imported, and the
   * run is a fork of the worker with its own state. The editor sets it; the CLI runs once, cold.
   */
  warm?: boolean;
}

export interface PythonRun {
  /** Exit code; runs that end any other way reject. */
  code: number;
  /** The last STREAM_TAIL_BYTES of stdout. */
  stdout: string;
  /** The last lines of stderr (the user's prints and the exporter's warnings go there). */
  stderrTail: string;
}

const STREAM_TAIL_BYTES = 16 * 1024;

/** Runs `python args...`; rejects with one line when it cannot start, times out, runs out of memory, is cancelled or crashes. */
export async function runPython(python: string, args: string[], options: PythonOptions): Promise<PythonRun> {
  if (options.warm) return runWarm(python, args, options);
  const run = await superviseChild({
    what: options.what,
    program: { kind: 'exec', command: python, args },
    limits: { timeoutMs: options.timeoutMs, memoryBytes: options.memoryLimitBytes, outputBytes: STREAM_TAIL_BYTES },
    cwd: options.cwd,
    env: { PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', ...options.env },
    tempDir: options.tempDir,
    userCode: true,
    signal: options.signal,
  });
  const ending = run.ending;
  if (ending.kind === 'not-started' && ending.notFound) {
    throw notFound(python);
  }
  if (ending.kind !== 'exited') throw endingError(options.what, ending, { lastError: lastLine(run.stderr.text) });
  return { code: ending.code, stdout: run.stdout.text, stderrTail: run.stderr.text };
}

async function runWarm(python: string, args: string[], options: PythonOptions): Promise<PythonRun> {
  const ownTemp = options.tempDir ? null : makeRunDir('memlens-py-');
  const temp = options.tempDir ?? ownTemp!;
  try {
    const env = { PYTHONDONTWRITEBYTECODE: '1', ...options.env, TMPDIR: temp, TMP: temp, TEMP: temp };
    const answer = await runInWorker(python, bridgeScript('python_worker.py'), args, options.cwd, env, {
      timeoutMs: options.timeoutMs, memoryBytes: options.memoryLimitBytes, outputBytes: STREAM_TAIL_BYTES, signal: options.signal,
    });
    if (!('reply' in answer)) {
      const ending = answer.ending;
      if (ending.kind === 'not-started' && ending.notFound) throw notFound(python);
      throw endingError(options.what, ending, { lastError: lastLine(answer.stderr.text) });
    }
    const reply = answer.reply;
    if (reply.code === null) {
      const signal = (Object.entries(os.constants.signals).find(([, n]) => n === reply.signal)?.[0] ?? 'SIGKILL') as NodeJS.Signals;
      throw endingError(options.what, options.signal?.aborted ? { kind: 'cancelled' } : { kind: 'signalled', signal });
    }
    return { code: reply.code, stdout: answer.stdout.text, stderrTail: answer.stderr.text };
  } finally {
    if (ownTemp) removeRunDir(ownTemp);
  }
}

function notFound(python: string): MemlensError {
  return new MemlensError(`Python interpreter not found: ${python} (set memlens.pythonPath to a Python with torch installed)`);
}

export interface PythonJsonOptions<T> extends PythonOptions {
  /** Reads the script's JSON answer; an answer it refuses is one error line. */
  check: Check<T>;
  /** Where the script writes its answer; default `result.json` in the run's temp directory. */
  resultFile?: string;
}

export interface PythonJsonRun<T> extends PythonRun {
  result: T;
}

/**
 * Runs `python script args...`, which writes its JSON answer to the file named by the
 * environment variable MEMLENS_RESULT (also `resultFile` when the caller gave one). The answer
 * counts whatever the exit code: a script may report its own failure in it.
 */
export async function runPythonJson<T>(python: string, script: string, args: string[], options: PythonJsonOptions<T>): Promise<PythonJsonRun<T>> {
  const ownTemp = options.tempDir ? null : makeRunDir('memlens-py-');
  const tempDir = options.tempDir ?? ownTemp!;
  const resultFile = options.resultFile ?? path.join(tempDir, 'result.json');
  try {
    const run = await runPython(python, [script, ...args], { ...options, tempDir, env: { ...options.env, MEMLENS_RESULT: resultFile } });
    return { ...run, result: readAnswer(resultFile, run, options) };
  } finally {
    if (ownTemp) removeRunDir(ownTemp);
  }
}

function readAnswer<T>(file: string, run: PythonRun, options: PythonJsonOptions<T>): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    const last = lastLine(run.stderrTail);
    throw new MemlensError(oneLine(`${options.what} exited with code ${run.code} without a result${last ? `: ${last}` : ''}`));
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MemlensError(oneLine(`${options.what} wrote a result that is not JSON (${path.basename(file)})`));
  }
  const checked = runCheck(options.check, value);
  if (!checked.ok) throw new MemlensError(oneLine(`${options.what} wrote an invalid result: ${checked.reason}`));
  return checked.value;
}
