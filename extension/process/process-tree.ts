// The processes a child started, read from /proc (Linux). The supervisor limits the memory of the
// whole tree and kills all of it: a grandchild the model started, or a daemon that left the
// process group (Python's start_new_session) and was reparented when its parent exited.
// A pid is known with its start time, so a pid the kernel reused is never signalled.
import * as fs from 'fs';
import { readProcMemory } from './proc-memory';

interface Stat {
  ppid: number;
  pgid: number;
  /** Start time in clock ticks since boot (field 22): tells a reused pid apart. */
  start: string;
}

export function readStat(pid: number): Stat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(fields[1]), pgid: Number(fields[2]), start: fields[19] };
}

function allPids(): number[] {
  try {
    return fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
  } catch {
    return [];
  }
}

/** Whether each thread's `children` file exists (CONFIG_PROC_CHILDREN); else parents are found by scanning. */
const childrenFiles = fs.existsSync(`/proc/self/task/${process.pid}/children`);

/** Direct children of a process: what each of its threads forked. */
function childrenOf(pid: number): number[] {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tids) {
    try {
      for (const c of fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (c) out.push(Number(c));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

export interface TreeMemory {
  /** VmRSS summed over the live members (pages shared between them count once per process). */
  residentBytes: number;
  /** VmHWM of the root process, when it could be read. */
  rootPeakBytes: number | null;
  /** Whether the root's /proc entry could be read at all. */
  readable: boolean;
}

export class ProcessTree {
  static readonly supported = fs.existsSync('/proc/self/stat');
  private readonly members = new Map<number, string>();
  private readonly rootStart: string | null;

  /**
   * `root` leads its own process group; `marker` is an environment entry (`NAME=value`) given
   * only to this child, which its descendants inherit, found on processes that escaped both the
   * group and the parent links before they were seen.
   */
  constructor(readonly root: number, private readonly marker: string | null) {
    const st = readStat(root);
    this.rootStart = st?.start ?? null;
    if (st) this.members.set(root, st.start);
  }

  /** Adds the processes started by members since the last call. */
  discover(): void {
    if (!ProcessTree.supported) return;
    if (!childrenFiles) {
      this.addDescendants(this.scan());
      return;
    }
    const queue = [...this.members.keys()];
    while (queue.length) {
      for (const c of childrenOf(queue.pop()!)) {
        if (this.members.has(c)) continue;
        const st = readStat(c);
        if (!st) continue;
        this.members.set(c, st.start);
        queue.push(c);
      }
    }
  }

  /** Memory of the members alive now; members that are gone are dropped. */
  memory(): TreeMemory {
    let residentBytes = 0;
    let rootPeakBytes: number | null = null;
    let readable = false;
    for (const [pid, start] of [...this.members]) {
      const mem = readStat(pid)?.start === start ? readProcMemory(pid) : null;
      if (!mem) {
        if (pid !== this.root) this.members.delete(pid);
        continue;
      }
      residentBytes += mem.rssBytes;
      if (pid === this.root) {
        rootPeakBytes = mem.peakRssBytes;
        readable = true;
      }
    }
    return { residentBytes, rootPeakBytes, readable };
  }

  /**
   * Sends `sig` to the group and to every process of the run found now; returns how many were
   * signalled. `spareRoot`: everything but the root itself (what a kept worker's request left).
   */
  signal(sig: NodeJS.Signals, sweep: boolean, spareRoot = false): number {
    let sent = 0;
    // The group outlives its leader while members remain; a live process with the leader's pid
    // but another start time is not ours, nor is the group it may lead.
    const leader = readStat(this.root);
    if (!spareRoot && (leader === null || leader.start === this.rootStart)) {
      try {
        process.kill(-this.root, sig);
        sent++;
      } catch {
        // the group is empty (or was never made)
      }
    }
    const stats = sweep ? this.scan() : null;
    if (stats) this.addDescendants(stats);
    const targets = new Map(this.members);
    if (stats && this.marker) for (const [pid, st] of stats) if (!targets.has(pid) && this.carriesMarker(pid)) targets.set(pid, st.start);
    for (const [pid, start] of targets) {
      if (pid === process.pid || (spareRoot && pid === this.root) || readStat(pid)?.start !== start) continue;
      try {
        process.kill(pid, sig);
        sent++;
      } catch {
        // ended meanwhile
      }
    }
    return sent;
  }

  private scan(): Map<number, Stat> {
    const out = new Map<number, Stat>();
    for (const pid of allPids()) {
      const st = readStat(pid);
      if (st) out.set(pid, st);
    }
    return out;
  }

  /** Members' descendants and the root's group members among `stats`. */
  private addDescendants(stats: Map<number, Stat>): void {
    let grew = true;
    while (grew) {
      grew = false;
      for (const [pid, st] of stats) {
        if (this.members.has(pid) || pid === process.pid) continue;
        if (st.pgid === this.root || this.members.has(st.ppid)) {
          this.members.set(pid, st.start);
          grew = true;
        }
      }
    }
  }

  private carriesMarker(pid: number): boolean {
    if (pid === process.pid) return false;
    try {
      // environ is NUL-separated `NAME=value` entries, each NUL-terminated.
      return `\0${fs.readFileSync(`/proc/${pid}/environ`, 'latin1')}`.includes(`\0${this.marker}\0`);
    } catch {
      return false; // another user's process, or gone
    }
  }
}
