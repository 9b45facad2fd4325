// `memlens`: the engine from a terminal or a CI job. Errors are one line on stderr, exit 2;
// a peak over --budget exits 3.
import * as path from 'node:path';
import { isMemlensError } from '../engine/errors';
import type { Profile } from '../engine/profile';
import { profileFile } from '../analysis/profile-file';
import { parseCli, type CliRequest } from './args';
import { chromeTrace } from '../analysis/chrome-trace';
import { writeNewFile } from '../analysis/write-file';
import { formatProfile } from './format-table';
import { clearProgress, startProgress } from './progress';

/** Where the CLI's results go: stdout when run as `memlens`, a buffer when run in process (the fuzz suite). */
export type Out = (text: string) => void;
const stdout: Out = (text) => void process.stdout.write(text);

export async function main(argv: string[], out: Out = stdout): Promise<number> {
  const req = parseCli(argv);
  startProgress(`${req.command} ${req.file}`);
  try {
    switch (req.command) {
      case 'suggest': case 'fit': return await (await import('./suggest-command')).suggestCommand(req, out);
      default: return await profileCommand(req, out);
    }
  } finally {
    clearProgress();
  }
}

export async function profileFor(req: CliRequest): Promise<Profile> {
  const { profile } = await profileFile({
    file: req.file, entry: req.entry, settings: req.settings, given: req.given, trusted: true, timeoutMs: req.timeoutMs, pythonPath: req.python,
    optimised: req.optimised,
    ...(req.run ? { run: { ep: req.ep, runs: req.runs, runtime: req.runtime } } : {}),
  });
  return profile;
}

async function profileCommand(req: CliRequest, out: Out): Promise<number> {
  const profile = await profileFor(req);
  clearProgress();
  // A trace may replace an earlier trace, never the model.
  if (req.trace) {
    await writeNewFile(req.trace, JSON.stringify(chromeTrace(profile)), { inputs: [req.file], replace: true });
    // On stderr, so --json output stays one JSON document.
    process.stderr.write(`memlens: wrote the memory timeline to ${path.resolve(req.trace)} (open it in ui.perfetto.dev or chrome://tracing)\n`);
  }
  if (req.json) out(JSON.stringify(profile, null, 1) + '\n');
  else out(formatProfile(profile, { budget: req.budget, cwd: process.cwd(), hideBelow: req.hideBelow }) + '\n');
  return req.budget !== undefined && profile.peak.bytes > req.budget ? 3 : 0;
}

export function runCli(argv: string[]): void {
  main(argv).then(
    (code) => exitAfterFlush(code),
    (e: unknown) => {
      if (isMemlensError(e)) {
        (e.exitCode === 0 ? process.stdout : process.stderr).write(e.exitCode === 0 ? `${e.message}\n` : `memlens: ${oneLine(e.message)}\n`);
        exitAfterFlush(e.exitCode);
        return;
      }
      process.stderr.write(`memlens: internal error: ${oneLine((e as Error)?.message ?? String(e), 200)} (please report this with the model file)\n`);
      exitAfterFlush(2);
    },
  );
}

/** The contract for what reaches a terminal: the first line, at most `max` characters (a 10^7-entry attribute is not echoed). */
export function oneLine(text: string, max = 300): string {
  const first = text.split('\n', 1)[0].trim();
  return first.length <= max ? first : `${first.slice(0, max - 1)}…`;
}

/** Writes to a pipe are asynchronous: exit only once stdout and stderr have drained. */
function exitAfterFlush(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

if (require.main === module) runCli(process.argv.slice(2));
