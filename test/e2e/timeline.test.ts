// The timeline panel and the ONNX summary in a real VS Code (code-server): the byte axis has
// power-of-two ticks and fits the visible curve (the weights of an inference pass become a band,
// hiding a dataset rescales), the peak's label stays clear of its marker, the chart and the table
// work from the keyboard, a budget change shows at once, the controls are the Settings UI's
// settings under the same names, the panel follows the active editor, and the .onnx summary shows
// a model card, only the controls the model has, and a measure button.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { withDefaults } from '../../extension/engine/settings';
import { encodeModel } from '../../extension/engine/onnx/encode';
import { formatBytes } from '../../extension/engine/units';
import type { Profile } from '../../extension/engine/profile';
import type { EngineApi } from '../../extension/vscode/engine-loader';
import { markerBox, overlaps, type Box } from '../../webview/timeline/geometry';
import { isBinaryAxis } from '../../webview/timeline/scale';
import { GraphBuilder } from '../fixtures/graph-builder';
import { openCustomEditorFile, webviewFrame } from './extension-webview';
import { repoRoot } from './harness/paths';
import { startSession, type Session } from './harness/session';
import type { Workbench } from './harness/workbench';
import { ensureVsix } from './harness/vsix';
import { waitUntil } from './harness/wait';
import type { Frame } from 'playwright-core';

const TINY_TS = [
  "import * as nn from 'memlens/nn';",
  '',
  'export class Tiny extends nn.Module {',
  "  static inputs = { x: nn.input(['batch', 256]) };",
  '  fc = new nn.Linear(256, 1024);',
  '  forward(x: nn.Tensor): nn.Tensor {',
  '    return nn.relu(this.fc.forward(x));',
  '  }',
  '}',
  '',
].join('\n');

/** Token ids [batch, sequence] -> embedding -> MatMul: a text model whose dims follow batch and seq. */
function textModel() {
  const b = new GraphBuilder();
  const ids = b.input('input_ids', 'int64', ['batch', 'sequence']);
  const e = b.one('Gather', [b.weight('wte', [1000, 64]), ids], { name: 'embed' });
  b.one('MatMul', [e, b.weight('proj', [64, 64])], { name: 'proj', outputs: ['hidden'] });
  b.output('hidden', 'float32', ['batch', 'sequence', 64]);
  return b.model(17);
}

/** x[8,512] -> MatMul -> Relu -> MatMul: fixed shapes, no batch or sequence dim to set. */
function fixedModel() {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [8, 512]);
  const h = b.one('MatMul', [x, b.weight('W1', [512, 2048])], { name: 'fc1' });
  const r = b.one('Relu', [h], { name: 'relu' });
  b.one('MatMul', [r, b.weight('W2', [2048, 512])], { name: 'fc2', outputs: ['y'] });
  b.output('y', 'float32', [8, 512]);
  return b.model();
}

function engineApi(): EngineApi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- typed as the loader types it
  return require('../../extension/presentation/editor-api') as EngineApi;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function canvasData(frame: Frame): Promise<Record<string, string>> {
  return frame.$eval('canvas#timeline', (el) => ({ ...(el as unknown as { dataset: Record<string, string> }).dataset }));
}

/**
 * Runs a command from the palette without waiting for the palette to close: a command that opens
 * its own input box at once keeps the quick input open.
 */
async function startCommand(workbench: Workbench, title: string): Promise<void> {
  await workbench.page.locator('.monaco-workbench').focus().catch(() => undefined);
  await workbench.page.keyboard.press('F1');
  const box = '.quick-input-widget .quick-input-box input';
  await workbench.waitForSelector(box, { what: 'the command palette' });
  await workbench.page.fill(box, `>${title}`);
  await waitUntil(`the command palette to offer "${title}"`, 30_000, async () => {
    const label = await workbench.page.getAttribute('.quick-input-widget .quick-input-list .monaco-list-row.focused', 'aria-label').catch(() => null);
    return label !== null && (label === title || label.startsWith(`${title},`));
  });
  await workbench.page.keyboard.press('Enter');
}

/** The text of `selector` in `frame` now, or null: no waiting (frames without it answer at once). */
async function textNow(frame: Frame, selector: string): Promise<string | null> {
  const el = await frame.$(selector).catch(() => null);
  return el ? el.textContent() : null;
}

function box(text: string): Box {
  const [x, y, w, h] = text.split(',').map(Number);
  return { x, y, w, h };
}

let vsix: string;
before(async () => {
  vsix = await ensureVsix();
}, { timeout: 600_000 });

describe('the timeline panel', { timeout: 900_000 }, () => {
  let workspace: string;
  let session: Session | undefined;
  let profile: Profile;
  const frame = () => webviewFrame(session!.workbench.page, 'canvas#timeline[data-y-ticks]', 'the timeline of gpt2.ts', 90_000);

  before(async () => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-timeline-ws-'));
    fs.copyFileSync(path.join(repoRoot, 'samples', 'gpt2.ts'), path.join(workspace, 'gpt2.ts'));
    fs.writeFileSync(path.join(workspace, 'tiny.ts'), TINY_TS);
    fs.writeFileSync(path.join(workspace, 'text.onnx'), encodeModel(textModel()));
    fs.writeFileSync(path.join(workspace, 'fixed.onnx'), encodeModel(fixedModel()));
    // What the panel should draw: the same engine on the same file (default settings).
    profile = (await engineApi().profileFile({ file: path.join(workspace, 'gpt2.ts'), settings: withDefaults({}), trusted: true, timeoutMs: 120_000 })).profile;
    session = await startSession({ name: 'timeline', workspace, extensions: [vsix], settings: { 'files.autoSave': 'off' } });
  });

  after(async () => {
    await session?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  /** The workspace's .vscode/settings.json (the panel and Set Memory Budget write there). */
  const workspaceSettings = (): Record<string, unknown> => {
    const file = path.join(workspace, '.vscode', 'settings.json');
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  };

  test('the byte axis has power-of-two ticks, fitted so the weights are a band; the peak label is clear of its marker', { timeout: 240_000 }, async () => {
    const { workbench } = session!;
    await workbench.openFile('gpt2.ts');
    await workbench.waitForStatusBarItem(new RegExp(`MemLens ${escape(formatBytes(profile.peak.bytes))}`), 'the status bar peak of gpt2.ts', 180_000);
    await workbench.runCommand('MemLens: Show Memory Timeline');
    const f = await frame();
    const d = await canvasData(f);
    const ticks = JSON.parse(d.yTicks) as number[];
    assert.ok(isBinaryAxis({ step: Number(d.yStep), ticks }), `ticks ${d.yTicks}`);
    assert.ok(ticks.length >= 3 && ticks.length <= 9);
    // Fitted: the axis starts below the weights (474.7 MiB, live at every step) and above zero.
    const weights = profile.timeline[0].byCategory.weights;
    assert.ok(profile.timeline.every((p) => p.byCategory.weights === weights));
    assert.equal(d.yFitted, 'true');
    assert.ok(Number(d.yMin) > 0 && Number(d.yMin) < weights, `axis from ${d.yMin}, weights ${weights}`);
    assert.ok(Number(d.yMax) >= profile.peak.bytes);
    const label = box(d.peakLabel);
    const marker = { x: Number(d.peakX), y: Number(d.peakY) };
    assert.equal(overlaps(label, markerBox(marker)), false, `peak label ${d.peakLabel} on the marker ${d.peakX},${d.peakY}`);
    await workbench.screenshot('timeline-inference-fitted');
  });

  test('hiding the weights in the legend rescales the axis to what is left', { timeout: 120_000 }, async () => {
    const { workbench } = session!;
    const f = await frame();
    const weights = f.locator('button.legend-item', { hasText: 'weights' });
    await weights.click();
    await waitUntil('the axis to start at zero', 15_000, async () => (await canvasData(f)).yMin === '0');
    const d = await canvasData(f);
    assert.equal(await weights.getAttribute('aria-pressed'), 'false');
    // What is left: every category but the weights, at its highest step.
    const rest = Math.max(...profile.timeline.map((p) => p.liveBytes - p.byCategory.weights));
    assert.ok(Number(d.yMax) >= rest && Number(d.yMax) < 2 * rest, `axis to ${d.yMax} for ${rest} B`);
    assert.ok(isBinaryAxis({ step: Number(d.yStep), ticks: JSON.parse(d.yTicks) as number[] }));
    await workbench.screenshot('timeline-weights-hidden');
    await weights.click();
    await waitUntil('the weights back', 15_000, async () => (await canvasData(f)).yFitted === 'true');
  });

  test('the chart works from the keyboard: arrows move across steps, Enter opens the line; table rows show focus', { timeout: 120_000 }, async () => {
    const { workbench } = session!;
    const f = await frame();
    await f.focus('canvas#timeline');
    const peak = profile.timeline.reduce((a, b) => (b.liveBytes > a.liveBytes ? b : a));
    await waitUntil('the cursor on the peak', 10_000, async () => (await canvasData(f)).cursorIndex === String(peak.index));
    // Left from the peak to the nearest step that has a source line in gpt2.ts.
    let k = 1;
    while (!profile.timeline[peak.index - k].source) k++;
    const target = profile.timeline[peak.index - k];
    for (let i = 0; i < k; i++) await f.press('canvas#timeline', 'ArrowLeft');
    await waitUntil(`the cursor on step ${target.index}`, 10_000, async () => (await canvasData(f)).cursorIndex === String(target.index));
    assert.match((await f.textContent('#chart-cursor')) ?? '', new RegExp(`^Step ${target.index} of ${profile.timeline.length}: ${escape(target.op)} ${escape(target.node)}`));
    await workbench.screenshot('timeline-keyboard-cursor');
    await f.press('canvas#timeline', 'Enter');
    await workbench.waitForCursorLine(target.source!.line, 30_000);
    const f2 = await frame();
    await f2.focus('table.live tbody tr.link');
    const outline = await f2.evaluate<{ style: string; width: string }>(
      `(() => { const s = getComputedStyle(document.querySelector('table.live tbody tr.link')); return { style: s.outlineStyle, width: s.outlineWidth }; })()`,
    );
    assert.notEqual(outline.style, 'none');
    assert.notEqual(outline.width, '0px');
    await f2.press('table.live tbody tr.link', 'ArrowDown');
    assert.equal(await f2.evaluate<number>('document.activeElement.rowIndex'), 2);
    await workbench.screenshot('timeline-row-focus');
  });

  test('a budget change shows in the timeline at once, without a new profile', { timeout: 120_000 }, async () => {
    const { workbench } = session!;
    const before = await (await frame()).getAttribute('#app', 'data-profile-id');
    // Focus out of the panel first: an input box closes when the focus goes back into a webview.
    await workbench.runCommand('View: Focus First Editor Group');
    await startCommand(workbench, 'MemLens: Set Memory Budget…');
    const input = '.quick-input-widget .quick-input-box input';
    await workbench.waitForText('.quick-input-widget .quick-input-title', /MemLens: memory budget/, 'the budget input');
    await workbench.page.fill(input, '400MiB');
    await workbench.page.keyboard.press('Enter');
    const over = formatBytes(profile.peak.bytes - 400 * 2 ** 20);
    const f = await waitUntil('the budget in the timeline', 30_000, async () => {
      const fr = await frame();
      return ((await fr.textContent('dl.summary')) ?? '').includes(`Budget400.0 MiB, over by ${over}`) ? fr : undefined;
    });
    assert.equal(await f.getAttribute('#app', 'data-profile-id'), before, 'the same profile, redrawn');
    // The budget line is on the axis.
    assert.ok(Number((await canvasData(f)).yMin) <= 400 * 2 ** 20);
    await workbench.screenshot('timeline-budget');
  });

  test('the controls are the Settings UI settings, same names, and write where the Settings UI reads', { timeout: 240_000 }, async () => {
    const { workbench } = session!;
    let f = await frame();
    const controls = await f.evaluate<Array<{ label: string; key: string }>>(
      `[...document.querySelectorAll('.controls .control[data-field]:not([hidden])')].map((c) => ({ label: c.querySelector('label').textContent, key: c.title.split(':')[0] }))`,
    );
    assert.deepEqual(controls, [
      { label: 'Mode', key: 'memlens.mode' }, { label: 'Batch', key: 'memlens.batch' },
      { label: 'Sequence Length', key: 'memlens.sequenceLength' }, { label: 'Dtype', key: 'memlens.dtype' },
    ]);
    await workbench.runCommand('Preferences: Open Settings (UI)');
    await workbench.waitForSelector('.settings-editor', { what: 'the Settings UI' });
    // The search box has the focus when the Settings UI opens; the editor over it takes no clicks.
    const search = workbench.page.locator('.settings-editor .suggest-input-container .monaco-editor textarea').first();
    for (const c of controls) {
      await search.focus();
      await workbench.page.keyboard.press('Control+A');
      await workbench.page.keyboard.type(`@id:${c.key}`);
      // The list filters as it is typed: wait for the one row of this key, then compare its title.
      let seen: string[] = [];
      await waitUntil(`the Settings UI row of ${c.key} titled "${c.label}"`, 30_000, async () => {
        seen = (await workbench.page.locator('.settings-editor .setting-item-contents .setting-item-label').allTextContents()).map((x) => x.trim());
        return seen.length === 1 && seen[0] === c.label ? true : undefined;
      }).catch(() => undefined);
      assert.deepEqual(seen, [c.label], `the Settings UI title of ${c.key}`);
      if (c.key === 'memlens.dtype') await workbench.screenshot('settings-ui-names');
    }
    // The Settings UI stays open in the editor group; the panel beside it is still visible.
    f = await frame();
    await f.selectOption('select#setting-dtype', 'fp16');
    await f.click('button#apply-settings');
    await waitUntil('the fp16 profile in the panel', 120_000, async () => ((await (await frame()).textContent('#analysed')) ?? '').includes('fp16'));
    const written = workspaceSettings();
    assert.equal(written['memlens.dtype'], 'fp16');
    assert.equal(written['memlens.mode'], undefined, 'unchanged settings are not written');
    const fp16 = (await engineApi().profileFile({ file: path.join(workspace, 'gpt2.ts'), settings: withDefaults({ dtype: 'fp16' }), trusted: true, timeoutMs: 120_000 })).profile;
    assert.match((await (await frame()).textContent('#peak-summary')) ?? '', new RegExp(`^Peak ${escape(formatBytes(fp16.peak.bytes))}`));
    await workbench.screenshot('timeline-controls-fp16');
  });

  test('the panel follows the active editor, and the status bar shows its model while it has focus', { timeout: 240_000 }, async () => {
    const { workbench } = session!;
    // The last click was in the panel: open the next file in the editor's group, not over the panel.
    await workbench.runCommand('View: Focus First Editor Group');
    await workbench.openFile('tiny.ts');
    // The settings in force are the workspace's (an earlier test may have written them).
    const dtype = (workspaceSettings()['memlens.dtype'] as 'fp16' | undefined) ?? 'fp32';
    const tiny = (await engineApi().profileFile({ file: path.join(workspace, 'tiny.ts'), settings: withDefaults({ dtype }), trusted: true, timeoutMs: 120_000 })).profile;
    await workbench.waitForSelector('.tab[aria-label^="Memory: tiny.ts"]', { what: 'the panel retitled for tiny.ts', timeoutMs: 90_000 });
    await waitUntil('the timeline of tiny.ts', 120_000, async () => {
      for (const fr of workbench.page.frames()) {
        const text = await textNow(fr, '#peak-summary');
        if (text?.startsWith(`Peak ${formatBytes(tiny.peak.bytes)}`) && (await textNow(fr, 'h1')) === 'tiny.ts') return true;
      }
      return undefined;
    }, 500);
    await workbench.screenshot('timeline-follows-editor');
    // An .onnx summary in the editor group shows its own figure; focus in the panel shows the panel's model.
    const fixed = (await engineApi().profileFile({ file: path.join(workspace, 'fixed.onnx'), settings: withDefaults({ dtype }), trusted: true, timeoutMs: 60_000 })).profile;
    assert.notEqual(formatBytes(fixed.peak.bytes), formatBytes(tiny.peak.bytes));
    await openCustomEditorFile(workbench.page, 'fixed.onnx');
    await workbench.waitForStatusBarItem(new RegExp(`MemLens ${escape(formatBytes(fixed.peak.bytes))}`), 'the status bar peak of fixed.onnx', 90_000);
    await workbench.page.locator('.tab[aria-label^="Memory: tiny.ts"]').click();
    await workbench.waitForStatusBarItem(new RegExp(`MemLens ${escape(formatBytes(tiny.peak.bytes))}`), 'the status bar peak of the panel\'s model', 30_000);
    await workbench.screenshot('timeline-focus-status-bar');
  });

  test('the ONNX summary: a model card, the sequence control only where the model has one, and a measure button', { timeout: 300_000 }, async () => {
    const { workbench } = session!;
    await workbench.runCommand('View: Close All Editors');
    await openCustomEditorFile(workbench.page, 'text.onnx');
    const card = await webviewFrame(workbench.page, '#model-card[open]', 'the model card of text.onnx', 90_000);
    const text = (await card.textContent('#model-card')) ?? '';
    const size = fs.statSync(path.join(workspace, 'text.onnx')).size;
    assert.match(text, new RegExp(`Opsetsai\\.onnx 17`));
    assert.match(text, /Nodes2/);
    assert.match(text, new RegExp(`File size.*\\(${escape(size.toLocaleString('en-US'))} bytes\\)`));
    assert.match(text, /input_idsint64\[batch=1, sequence=128\]/);
    assert.match(text, /hiddenfloat32\[batch=1, sequence=128, 64\]/);
    assert.ok(await card.$('input#setting-seq'), 'a sequence control for a model with a sequence dim');
    await workbench.screenshot('onnx-summary-text-model');

    await workbench.page.locator('.tab.active[data-resource-name="text.onnx"]').click();
    await openCustomEditorFile(workbench.page, 'fixed.onnx');
    const fixed = await waitUntil('the summary of fixed.onnx', 90_000, async () => {
      for (const fr of workbench.page.frames()) {
        if ((await textNow(fr, 'h1')) === 'fixed.onnx' && (await fr.$('canvas#timeline[data-y-ticks]').catch(() => null))) return fr;
      }
      return undefined;
    }, 500);
    assert.equal(await fixed.$('#setting-seq'), null, 'no sequence control');
    assert.equal(await fixed.$('#setting-batch'), null, 'no batch control');
    assert.match((await fixed.textContent('.controls-note')) ?? '', /Sequence Length: not shown, the model has no sequence dimension/);
    assert.doesNotMatch((await fixed.textContent('#analysed')) ?? '', /seq|batch/);
    const measure = fixed.locator('button#measure');
    assert.ok(await measure.isVisible(), 'the measure button is visible');
    await measure.click();
    const measured = await waitUntil('the measured figures', 120_000, async () => {
      for (const fr of workbench.page.frames()) {
        const t = await textNow(fr, 'dl.summary');
        if (t && /Measured \(cpu\)\d/.test(t) && (await textNow(fr, 'h1')) === 'fixed.onnx') return fr;
      }
      return undefined;
    }, 500);
    assert.ok((await measured.locator('.legend-item').allTextContents()).some((l) => l.startsWith('measured on cpu')));
    await workbench.screenshot('onnx-summary-measured');
  });
});
