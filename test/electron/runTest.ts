// Desktop VS Code through @vscode/test-electron, for machines that can download VS Code (`npm run
// test:electron` builds, bundles and runs it). Machines without internet cannot download VS Code:
// CI runs the code-server suite in test/e2e instead, and this is no part of .ci/run.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { repoRoot } from '../e2e/harness/paths';

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'extension.js'))) {
    throw new Error('dist/extension.js is missing: run `npm run bundle` first');
  }
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-electron-ws-'));
  try {
    await runTests({
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: path.join(__dirname, 'suite', 'index'),
      extensionTestsEnv: { MEMLENS_TEST_WORKSPACE: workspace },
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
    });
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
