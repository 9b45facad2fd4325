// Which Python runs the export: the caller's choice (the `memlens.pythonPath` setting, else the
// interpreter the Python extension selected), else the system interpreter, else `python3` on PATH.
import * as fs from 'node:fs';

export const SYSTEM_PYTHON = '/usr/bin/python3';

export function resolvePython(pythonPath?: string): string {
  if (pythonPath && pythonPath.trim()) return pythonPath.trim();
  return fs.existsSync(SYSTEM_PYTHON) ? SYSTEM_PYTHON : 'python3';
}
