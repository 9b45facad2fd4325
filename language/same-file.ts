// Whether two paths name the same file: profiles record the paths their front end saw, editors
// and the CLI have their own; compare them resolved (and case-blind on Windows).
import * as path from 'node:path';

export function sameFile(a: string, b: string): boolean {
  const norm = (p: string) => {
    const r = path.resolve(p);
    return process.platform === 'win32' ? r.toLowerCase() : r;
  };
  return norm(a) === norm(b);
}
