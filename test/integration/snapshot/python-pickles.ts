// Runs the Python scripts that write this folder's test pickles with the real `pickle` module.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../fixtures/repo-root';

const PYTHON = '/usr/bin/python3';

export function writeWithPython(script: 'write_pickles.py' | 'write_snapshots.py'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-pickles-'));
  const file = path.join(repoRoot, 'test', 'integration', 'snapshot', script);
  try {
    execFileSync(PYTHON, [file, dir], { stdio: 'pipe', timeout: 120_000 });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`${script} failed: ${(err.stderr?.toString() ?? err.message).trim().split('\n').pop()}`);
  }
  return dir;
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
