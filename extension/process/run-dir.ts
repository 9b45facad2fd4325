// Directories a run makes for itself (a child's TMPDIR, the ONNX Runtime run's files, the optimiser's
// output, the export's work). Each is removed when its run ends; when the process that made it is
// killed first (SIGKILL, a crash), the directory would stay. So each records its owner, and the first
// directory a process makes in a folder sweeps that folder of the ones of the same kind whose owner is
// dead: gone from this host (or its pid taken by a later process) and silent for STALE_AFTER_MS.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The owner record inside each run directory. */
export const OWNER_FILE = '.memlens-owner';
/** How long a dead owner's directory is left alone: its owner may live in another pid namespace on this host name. */
export const STALE_AFTER_MS = 10 * 60 * 1000;

interface Owner {
  pid: number;
  host: string;
  /** The pid's start time in clock ticks since boot (/proc/PID/stat field 22), so a reused pid is not taken for the owner. */
  started: string | null;
}

const swept = new Set<string>();

/** Makes `parent/prefixXXXXXX`, owned by this process; the first call per folder and prefix sweeps stale ones. */
export function makeRunDir(prefix: string, parent: string = os.tmpdir()): string {
  const key = path.join(parent, prefix);
  if (!swept.has(key)) {
    swept.add(key);
    sweepStaleRunDirs(parent, prefix);
  }
  const dir = fs.mkdtempSync(key);
  const owner: Owner = { pid: process.pid, host: os.hostname(), started: startTicks(process.pid) };
  fs.writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify(owner));
  return dir;
}

export function removeRunDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Removes `parent/prefix*` directories whose owner record names a dead process of this host and
 * was written over `staleAfterMs` ago; a directory without a record is not ours to judge. Returns
 * the removed paths. Never throws: a folder it cannot read or a directory it cannot remove stays.
 */
export function sweepStaleRunDirs(parent: string, prefix: string, staleAfterMs = STALE_AFTER_MS, now = Date.now()): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(parent).filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const dir = path.join(parent, name);
    try {
      const record = path.join(dir, OWNER_FILE);
      if (now - fs.statSync(record).mtimeMs < staleAfterMs) continue;
      if (ownerAlive(JSON.parse(fs.readFileSync(record, 'utf8')) as Owner)) continue;
      removeRunDir(dir);
      removed.push(dir);
    } catch {
      // No record, not readable, or another user's: left as it is.
    }
  }
  return removed;
}

function ownerAlive(owner: Owner): boolean {
  if (owner.host !== os.hostname()) return true; // another machine's process: no way to tell
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    // EPERM: a process of another user holds the pid, which is not the owner if its start differs.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(owner.pid);
  // A zombie has ended: it answers signal 0 until its parent reaps it.
  if (stat !== null && (stat.state === 'Z' || stat.state === 'X')) return false;
  return owner.started === null || stat === null || stat.started === owner.started;
}

/** Start time in clock ticks since boot (/proc/PID/stat field 22); null off Linux. */
function startTicks(pid: number): string | null {
  return procStat(pid)?.started ?? null;
}

/** Fields 3 (state) and 22 (start time) of /proc/PID/stat, after the parenthesised command, which may hold spaces. */
function procStat(pid: number): { state: string; started: string | null } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], started: fields[19] ?? null };
  } catch {
    return null;
  }
}
