// `memlens/nn` resolves in a user's workspace: the packaged VSIX carries the TypeScript server
// plugin as node_modules/memlens-ts-plugin, VS Code's TypeScript service loads it, and a model file
// copied into a folder with no tsconfig and no memlens install gets types (hover on nn.Linear) and
// no "Cannot find module" problem, while a genuinely missing module is still reported.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot } from './harness/paths';
import { startSession, type Session } from './harness/session';
import { ensureVsix } from './harness/vsix';
import { sleep, waitUntil } from './harness/wait';

/** Uses memlens/nn and imports one module that exists nowhere: exactly one problem expected. */
const CHECK_TS = [
  "import * as nn from 'memlens/nn';",
  "import { missing } from 'memlens/missing';",
  '',
  'export const fc: nn.Linear = new nn.Linear(16, 32);',
  'export const y = missing;',
  '',
].join('\n');

const problemRows = '.markers-panel .monaco-list-row';

describe('memlens/nn in a workspace without memlens installed', { timeout: 600_000 }, () => {
  let workspace: string;
  let session: Session | undefined;
  let lines: string[];

  before(async () => {
    const vsix = await ensureVsix();
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-ts-plugin-ws-'));
    fs.copyFileSync(path.join(repoRoot, 'samples', 'gpt2.ts'), path.join(workspace, 'gpt2.ts'));
    fs.writeFileSync(path.join(workspace, 'check_import.ts'), CHECK_TS);
    lines = fs.readFileSync(path.join(workspace, 'gpt2.ts'), 'utf8').split('\n');
    // Inline figures are not what this test is about: keep the extension host quiet.
    session = await startSession({ name: 'ts-plugin', workspace, extensions: [vsix], settings: { 'memlens.profileOnSave': false } });
  }, { timeout: 600_000 });

  after(async () => {
    await session?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  test('the installed extension holds the plugin package where tsserver looks for it', () => {
    const installed = fs.readdirSync(session!.server.extensionsDir).filter((e) => e.startsWith('memlens.memlens-'));
    assert.equal(installed.length, 1, installed.join(', '));
    const pkg = path.join(session!.server.extensionsDir, installed[0], 'node_modules', 'memlens-ts-plugin');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')), { name: 'memlens-ts-plugin', version: '0.1.0', private: true, main: 'index.js' });
    assert.ok(fs.existsSync(path.join(pkg, '..', '..', 'dist', 'ts-plugin.js')), 'dist/ts-plugin.js is installed');
    assert.ok(fs.existsSync(path.join(pkg, '..', '..', 'dist', 'api', 'nn.d.ts')), 'dist/api/nn.d.ts is installed');
  });

  test('hovering nn.Linear in gpt2.ts shows its constructor from the shipped typings', { timeout: 240_000 }, async () => {
    const { workbench } = session!;
    await workbench.openFile('gpt2.ts');
    const line = lines.findIndex((l) => l.includes('new nn.Linear')) + 1;
    const column = lines[line - 1].indexOf('new nn.Linear') + 'new nn.'.length + 2;
    // The TypeScript service starts with the first TypeScript file: ask again until it answers with types.
    const hover = await waitUntil('a typed hover on nn.Linear', 180_000, async () => {
      await workbench.goToLine(line, column);
      await workbench.runCommand('Show or Focus Hover');
      const shown = workbench.page.locator('.monaco-editor .monaco-hover:visible').first();
      const text = await waitUntil('the hover', 10_000, async () => ((await shown.textContent().catch(() => null)) ?? '').trim() || undefined).catch(() => '');
      if (/Linear\(inFeatures: number, outFeatures: number/.test(text)) return text;
      await workbench.page.keyboard.press('Escape');
      await sleep(2_000);
      return undefined;
    }, 0);
    assert.match(hover, /new Linear\(inFeatures: number, outFeatures: number/);
    assert.doesNotMatch(hover, /\bany\b/);
    await sleep(500); // let the hover finish fading in before the picture
    await workbench.screenshot('gpt2-hover-linear');
    await workbench.page.keyboard.press('Escape');
  });

  test('Problems lists only the missing module, nothing about memlens/nn', { timeout: 180_000 }, async () => {
    const { workbench } = session!;
    await workbench.openFile('check_import.ts');
    await workbench.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
    // The deliberate error shows the TypeScript service has checked the open files.
    await workbench.waitForText(problemRows, /Cannot find module 'memlens\/missing'/, 'the missing-module problem', 120_000);
    await sleep(3_000); // any later diagnostics of the two open files would arrive by now
    const rows = (await workbench.page.locator(problemRows).allTextContents()).map((r) => r.trim());
    const problems = rows.filter((r) => /\[Ln \d+, Col \d+\]$/.test(r)); // marker rows, not file rows
    assert.deepEqual(
      problems.map((r) => /Cannot find module '[^']+'/.exec(r)?.[0] ?? r),
      ["Cannot find module 'memlens/missing'"],
      rows.join(' | '),
    );
    assert.ok(!rows.some((r) => r.includes('gpt2.ts')), `gpt2.ts has no problems: ${rows.join(' | ')}`);
    await workbench.screenshot('problems-only-missing');
    await workbench.openFile('gpt2.ts');
    await workbench.goToLine(123);
    await workbench.screenshot('gpt2-no-problems');
  });
});
