// `memlens`: the engine from a terminal or a CI job. Errors are one line on stderr, exit 2;
// a peak over --budget exits 3.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { isMemlensError } from '../engine/errors';
import type { Profile } from '../engine/profile';
import { profileFile } from '../analysis/profile-file';
import { parseCli, type CliRequest } from './args';
import { chromeTrace } from '../analysis/chrome-trace';
import { formatProfile } from './format-table';
import { clearProgress, startProgress } from './progress';

export async function main(argv: string[]): Promise<number> {
  const req = parseCli(argv);
  startProgress(`${req.command} ${req.file}`);
  try {
    switch (req.command) {
      case 'suggest': case 'fit': return await (await import('./suggest-command')).suggestCommand(req);
      default: return await profileCommand(req);
    }
  } finally {
    clearProgress();
  }
}

export async function profileFor(req: CliRequest): Promise<Profile> {
  const { profile } = await profileFile({
    file: req.file, entry: req.entry, settings: req.settings, given: req.given, trusted: true, timeoutMs: req.timeoutMs, pythonPath: req.python,
    ...(req.run ? { run: { ep: req.ep, runs: req.runs, runtime: req.runtime } } : {}),
  });
  return profile;
}

async function profileCommand(req: CliRequest): Promise<number> {
  const profile = await profileFor(req);
  clearProgress();
  if (req.trace) {
    await fs.writeFile(req.trace, JSON.stringify(chromeTrace(profile)));
    // On stderr, so --json output stays one JSON document.
    process.stderr.write(`memlens: wrote the memory timeline to ${path.resolve(req.trace)} (open it in ui.perfetto.dev or chrome://tracing)\n`);
  }
  if (req.json) process.stdout.write(JSON.stringify(profile, null, 1) + '\n');
  else process.stdout.write(formatProfile(profile, { budget: req.budget, cwd: process.cwd() }) + '\n');
  return req.budget !== undefined && profile.peak.bytes > req.budget ? 3 : 0;
}

export function runCli(argv: string[]): void {
  main(argv).then(
    (code) => exitAfterFlush(code),
    (e: unknown) => {
      if (isMemlensError(e)) {
        (e.exitCode === 0 ? process.stdout : process.stderr).write(`${e.exitCode === 0 ? '' : 'memlens: '}${e.message}\n`);
        exitAfterFlush(e.exitCode);
        return;
      }
      process.stderr.write(`memlens: internal error: ${(e as Error)?.message ?? String(e)} (please report this with the model file)\n`);
      exitAfterFlush(2);
    },
  );
}

/** Writes to a pipe are asynchronous: exit only once stdout and stderr have drained. */
function exitAfterFlush(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

if (require.main === module) runCli(process.argv.slice(2));
