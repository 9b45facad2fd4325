// Where the end-to-end tools live.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../fixtures/repo-root';

export { repoRoot };

/** code-server's entry script, installed by scripts/setup-e2e.sh. */
export const codeServerEntry = path.join(repoRoot, '.e2e', 'node_modules', 'code-server', 'out', 'node', 'entry.js');

/** Debian's Chromium (`apt-get install chromium`); override with MEMLENS_E2E_CHROMIUM. */
export const chromiumPath = process.env.MEMLENS_E2E_CHROMIUM ?? '/usr/bin/chromium';

/** Screenshots and logs for people to look at after a run (git-ignored). */
export const artifactsRoot = path.join(repoRoot, 'test-artifacts');

/** Throws one clear line naming the set-up command when a tool is missing. */
export function assertE2eToolsInstalled(): void {
  const missing: string[] = [];
  if (!fs.existsSync(codeServerEntry)) missing.push(`code-server (${codeServerEntry})`);
  if (!fs.existsSync(chromiumPath)) missing.push(`Chromium (${chromiumPath})`);
  if (missing.length > 0) {
    throw new Error(`e2e harness: missing ${missing.join(' and ')}; run: bash scripts/setup-e2e.sh`);
  }
}

/** A folder under test-artifacts/ for one test, made if absent. */
export function artifactsDir(name: string): string {
  const dir = path.join(artifactsRoot, name.replace(/[^A-Za-z0-9._-]+/g, '-'));
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
