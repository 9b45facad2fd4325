// The extension host stays free while a large model is analysed (the engine runs in a worker
// thread): with a 300k-output Split .onnx being profiled on open, another MemLens command answers
// within 1 s, and the analysis is cancelled from the status bar. Also logs the open-to-figures and
// save-to-figures times of samples/gpt2.ts (`[e2e-timing] ...`, with the first, partial figures'
// times when the status bar showed them), and checks that a save shows the last figures with
// "re-profiling" at once: in the extension itself (its log says how long after the save event the
// status turned busy, which updates the status bar and the inline figures synchronously), within
// 100 ms.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeModel } from '../../extension/engine/onnx/encode';
import { GraphBuilder, int } from '../fixtures/graph-builder';
import { openCustomEditorFile } from './extension-webview';
import { repoRoot } from './harness/paths';
import { startSession, type Session } from './harness/session';
import { ensureVsix } from './harness/vsix';
import { waitUntil } from './harness/wait';
import { waitForLogLine } from './harness/extension-log';

const SPLIT_OUTPUTS = 300_000;
const STATUS_ITEM = '.part.statusbar .statusbar-item';
/**
 * The extension's own figures (vscode/profiler.ts): from the save event to the status turning busy,
 * which redraws the status bar item and the inline figures synchronously, and whether that was
 * still inside the event's handler.
 */
const SAVE_SHOWN = /save gpt2\.ts: re-profiling \(the last figures dimmed\) shown in ([\d.]+) ms after the save event, (within its handler|after its handler returned) \(([^)]*)\)(?:; the event came (\d+) ms after the file was written)?/;
/**
 * The goal for the whole save-to-dimmed path; the extension's part of it (one setting read, then
 * the redraws) took about 1 ms on a shared 2-core machine at a load average of 13-17, where reading
 * every setting first had taken 190 ms. That it happens inside the handler, before any await, is
 * checked exactly.
 */
const SAVE_SHOWN_LIMIT_MS = 100;

/**
 * Polls the status bar every 50 ms until it shows the whole profile's peak (no "partial", no
 * "re-profiling"); logs when the first, partial figures showed, if a poll saw them.
 */
async function waitForFigures(workbench: Session['workbench'], what: string, since: number, timeoutMs: number): Promise<string> {
  let partialLogged = false;
  return waitUntil(what, timeoutMs, async () => {
    const texts = await workbench.statusBarTexts();
    if (!partialLogged && texts.some((t) => /MemLens \d.* · partial/.test(t))) {
      partialLogged = true;
      console.log(`[e2e-timing] ${what}-partial ${Date.now() - since}`);
    }
    return texts.find((t) => /MemLens \d[\d.]* [KMGT]?i?B/.test(t) && !t.includes('re-profiling') && !t.includes('partial'));
  }, 50);
}

function writeSplit(file: string): void {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', [SPLIT_OUTPUTS, 4]);
  for (const o of g.op('Split', [x], { outputs: SPLIT_OUTPUTS, attrs: { axis: int(0), num_outputs: int(SPLIT_OUTPUTS) } })) g.output(o, 'float32', [1, 4]);
  fs.writeFileSync(file, encodeModel(g.model(18)));
}

describe('the editor while MemLens analyses', { timeout: 900_000 }, () => {
  let workspace: string;
  let session: Session | undefined;

  before(async () => {
    const vsix = await ensureVsix();
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-responsive-ws-'));
    fs.copyFileSync(path.join(repoRoot, 'samples', 'gpt2.ts'), path.join(workspace, 'gpt2.ts'));
    writeSplit(path.join(workspace, 'split.onnx'));
    session = await startSession({ name: 'responsive', workspace, extensions: [vsix] });
  }, { timeout: 600_000 });

  after(async () => {
    await session?.close();
    if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
  });

  test('gpt2.ts: figures after open and after a save; a save shows the last figures re-profiling at once', { timeout: 300_000 }, async () => {
    const { workbench } = session!;
    const opened = Date.now();
    await workbench.openFile('gpt2.ts');
    const peak = await waitForFigures(workbench, 'open-to-figures', opened, 180_000);
    console.log(`[e2e-timing] open-to-figures ${Date.now() - opened}`);
    let saves = 0;
    // Two saves: the first also pays for loading the engine bundle on the host (code actions' first use).
    for (const save of ['save', 'second-save']) {
      await workbench.goToLine(1);
      await workbench.page.keyboard.press('End');
      await workbench.page.keyboard.type(' ');
      const saved = Date.now();
      await workbench.page.keyboard.press('Control+S');
      // Polled every 25 ms (not the harness's 200 ms), so the figure is mostly the editor's own.
      const dimmed = await waitUntil('the last figures, re-profiling', 10_000, async () => (await workbench.statusBarTexts()).find((t) => t.includes('re-profiling')), 25);
      console.log(`[e2e-timing] ${save}-to-dimmed ${Date.now() - saved}`);
      assert.ok(dimmed.includes(peak.replace(/^\W*/, '')), `"${dimmed}" shows the last figures "${peak}"`);
      const shown = await waitForLogLine(session!.server.userDataDir, SAVE_SHOWN, `how soon ${save} showed re-profiling`, ++saves);
      const shownMs = Number(shown[1]);
      console.log(`[e2e-timing] ${save}-to-dimmed-in-extension ${shownMs} (${shown[3]}${shown[4] ? `; save event ${shown[4]} ms after the write` : ''})`);
      assert.equal(shown[2], 'within its handler', 'the dimming happens in the save event, before any await');
      assert.ok(shownMs < SAVE_SHOWN_LIMIT_MS, `the extension showed re-profiling ${shownMs} ms after the save event`);
      await waitForFigures(workbench, `${save}-to-figures`, saved, 120_000);
      console.log(`[e2e-timing] ${save}-to-figures ${Date.now() - saved}`);
    }
  });

  test('a 300k-output Split: another command answers within 1 s during the analysis, which the status bar cancels', { timeout: 300_000 }, async () => {
    const { workbench } = session!;
    await openCustomEditorFile(workbench.page, 'split.onnx');
    await workbench.waitForStatusBarItem(/MemLens: profiling split\.onnx/, 'the analysis of split.onnx', 60_000);
    // A command the extension host answers: Set Memory Budget opens its input box from there.
    await workbench.page.locator('.monaco-workbench').focus();
    await workbench.page.keyboard.press('F1');
    await workbench.page.fill('.quick-input-widget .quick-input-box input', '>MemLens: Set Memory Budget');
    await waitUntil('the palette to offer Set Memory Budget', 10_000, async () =>
      ((await workbench.page.getAttribute('.quick-input-widget .monaco-list-row.focused', 'aria-label').catch(() => null)) ?? '').startsWith('MemLens: Set Memory Budget'));
    const asked = Date.now();
    await workbench.page.keyboard.press('Enter');
    await workbench.waitForText('.quick-input-widget', /memory budget/, 'the budget input box', 5_000);
    const answeredMs = Date.now() - asked;
    console.log(`[e2e-timing] command-during-analysis ${answeredMs}`);
    assert.ok(answeredMs < 1000, `the command answered after ${answeredMs} ms`);
    const texts = await workbench.statusBarTexts();
    assert.ok(texts.some((t) => t.includes('profiling split.onnx')), `the analysis was still running: ${texts.join(' | ')}`);
    await workbench.page.keyboard.press('Escape');
    const cancelled = Date.now();
    await workbench.page.locator(STATUS_ITEM, { hasText: 'profiling split.onnx' }).click();
    await waitUntil('the analysis to stop', 5_000, async () => !(await workbench.statusBarTexts()).some((t) => t.includes('profiling split.onnx')), 50);
    console.log(`[e2e-timing] cancel-to-stopped ${Date.now() - cancelled}`);
    const after = await workbench.statusBarTexts();
    assert.ok(!after.some((t) => /MemLens: failed/.test(t)), `no failure shown: ${after.join(' | ')}`);
  });
});
