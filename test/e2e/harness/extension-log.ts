// The MemLens output channel as code-server writes it: a LogOutputChannel's file under the user
// data folder (logs/<session>/exthost<N>/memlens.memlens/MemLens.log), read so that a test can
// check figures the extension itself measured.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { waitUntil } from './wait';

const CHANNEL = path.join('memlens.memlens', 'MemLens.log');

/** The MemLens log files of this user data folder, oldest session first. */
function logFiles(userDataDir: string): string[] {
  const root = path.join(userDataDir, 'logs');
  if (!fs.existsSync(root)) return [];
  const files: string[] = [];
  for (const session of fs.readdirSync(root).sort()) {
    const dir = path.join(root, session);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const host of fs.readdirSync(dir).filter((d) => d.startsWith('exthost')).sort()) {
      const file = path.join(dir, host, CHANNEL);
      if (fs.existsSync(file)) files.push(file);
    }
  }
  return files;
}

/** Every line MemLens has logged so far in this user data folder. */
export function memlensLogLines(userDataDir: string): string[] {
  return logFiles(userDataDir).flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.length > 0));
}

/**
 * Waits until the log holds at least `count` lines matching `pattern` (the channel's file is
 * written a little after the line is logged) and returns the `count`th one's match.
 */
export function waitForLogLine(userDataDir: string, pattern: RegExp, what: string, count = 1, timeoutMs = 10_000): Promise<RegExpExecArray> {
  return waitUntil(`the MemLens log to say ${what}`, timeoutMs, () => {
    const matches = memlensLogLines(userDataDir).map((l) => pattern.exec(l)).filter((m): m is RegExpExecArray => m !== null);
    return matches.length >= count ? matches[count - 1] : undefined;
  }, 100);
}
