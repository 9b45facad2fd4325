// Builds the extension's VSIX with `npm run package` (which writes memlens-<version>.vsix at the
// repository root) and reuses it while the sources it is built from are unchanged, so several
// end-to-end test files share one build.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runToCompletion } from './processes';
import { artifactsDir, repoRoot } from './paths';

const vsceBin = path.join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');

/**
 * Packages the extension in `extensionDir` (a folder with a package.json manifest and its files,
 * no npm dependencies) into `outFile` with @vscode/vsce.
 */
export async function packageVsix(extensionDir: string, outFile: string, logDir: string): Promise<string> {
  await runToCompletion(
    `vsce package ${path.basename(extensionDir)}`,
    process.execPath,
    [vsceBin, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', outFile],
    { cwd: extensionDir, logFile: path.join(logDir, 'vsce-package.log'), timeoutMs: 120_000 },
  );
  if (!fs.existsSync(outFile)) throw new Error(`e2e harness: vsce finished but ${outFile} is missing`);
  return outFile;
}

// What the package is built from; a change to any file here forces a rebuild.
const SOURCE_DIRS = ['extension', 'webview', 'language', 'samples', 'scripts', 'media', 'resources', 'bin'];
const SOURCE_FILES = ['package.json', 'package-lock.json', '.vscodeignore', 'tsconfig.json', 'LICENSE', 'README.md'];
const BUILD_SCRIPT = /^(esbuild|build)[\w.-]*\.(c|m)?[jt]s$/;

function listFiles(dir: string, into: string[]): void {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') listFiles(full, into);
    } else if (entry.isFile()) {
      into.push(full);
    }
  }
}

/** A hash over the path, size and modification time of every file the VSIX is built from. */
export function sourceFingerprint(): string {
  const files: string[] = [];
  for (const dir of SOURCE_DIRS) listFiles(path.join(repoRoot, dir), files);
  for (const file of SOURCE_FILES) files.push(path.join(repoRoot, file));
  for (const entry of fs.readdirSync(repoRoot)) if (BUILD_SCRIPT.test(entry)) files.push(path.join(repoRoot, entry));
  const hash = crypto.createHash('sha256');
  for (const file of files.sort()) {
    if (!fs.existsSync(file)) continue;
    const stat = fs.statSync(file);
    hash.update(`${path.relative(repoRoot, file)}\0${stat.size}\0${stat.mtimeMs}\n`);
  }
  return hash.digest('hex');
}

export function expectedVsixPath(): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };
  return path.join(repoRoot, `${manifest.name}-${manifest.version}.vsix`);
}

/**
 * The path of an up-to-date VSIX: MEMLENS_E2E_VSIX when set, otherwise the one at the repository
 * root if its sources are unchanged since it was built, otherwise a fresh `npm run package`.
 */
export async function ensureVsix(timeoutMs = 300_000): Promise<string> {
  const given = process.env.MEMLENS_E2E_VSIX;
  if (given !== undefined && given !== '') {
    if (!fs.existsSync(given)) throw new Error(`e2e harness: MEMLENS_E2E_VSIX points at a missing file: ${given}`);
    return given;
  }
  const vsix = expectedVsixPath();
  const stampFile = path.join(repoRoot, '.e2e', 'vsix.fingerprint');
  const fingerprint = sourceFingerprint();
  if (fs.existsSync(vsix) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === `${fingerprint} ${vsix}`) {
    return vsix;
  }
  await runToCompletion('npm run package', 'npm', ['run', 'package'], {
    cwd: repoRoot,
    logFile: path.join(artifactsDir('vsix'), 'package.log'),
    timeoutMs,
  });
  if (!fs.existsSync(vsix)) throw new Error(`e2e harness: npm run package finished but ${vsix} is missing`);
  fs.mkdirSync(path.dirname(stampFile), { recursive: true });
  fs.writeFileSync(stampFile, `${fingerprint} ${vsix}`);
  return vsix;
}
