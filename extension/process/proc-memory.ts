// Process memory as the kernel counts it (/proc/<pid>/status). Linux only; elsewhere null.
import * as fs from 'fs';

export interface ProcMemory {
  /** VmRSS: resident now. */
  rssBytes: number;
  /** VmHWM: the most that was ever resident. */
  peakRssBytes: number;
}

export function readProcMemory(pid: number | 'self'): ProcMemory | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kib = (key: string): number | null => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : null;
  };
  const rss = kib('VmRSS');
  const hwm = kib('VmHWM');
  if (rss === null) return null;
  return { rssBytes: rss, peakRssBytes: hwm ?? rss };
}
