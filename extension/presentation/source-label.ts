// How a source location reads to users.
import * as path from 'node:path';

export function sourceLabel(file: string, line: number | null): string {
  return line === null ? path.basename(file) : `${path.basename(file)}:${line}`;
}
