// How a source location reads to users, and whether a profile's file is the one in an editor.
import * as path from 'node:path';

export function sourceLabel(file: string, line: number | null): string {
  return line === null ? path.basename(file) : `${path.basename(file)}:${line}`;
}

/** Profiles record the paths their front end saw; compare them resolved (and case-blind on Windows). */
export function sameFile(a: string, b: string): boolean {
  const norm = (p: string) => {
    const r = path.resolve(p);
    return process.platform === 'win32' ? r.toLowerCase() : r;
  };
  return norm(a) === norm(b);
}
