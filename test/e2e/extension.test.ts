// MemLens in a real VS Code (code-server): the packaged VSIX installed, a model opened, figures on
// its lines, the timeline drawn with the peak marked, a click on the peak moving the editor to the
// peak's line, a broken model giving one clear message, and Restricted Mode running no user code.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { analyzeModel } from '../../extension/engine/analyze';
import { encodeModel } from '../../extension/engine/onnx/encode';
import { withDefaults } from '../../extension/engine/settings';
import { formatBytes } from '../../extension/engine/units';
import type { Profile } from '../../extension/engine/profile';
import { lineDecorations } from '../../extension/presentation/line-figures';
import type { EngineApi } from '../../extension/vscode/engine-loader';
import { GraphBuilder } from '../fixtures/graph-builder';
import { inlineFigures, inlineFigureTexts, openCustomEditorFile, peakMarker, webviewFrame } from './extension-webview';
import { repoRoot } from './harness/paths';
import { startSession, type Session } from './harness/session';
import { ensureVsix } from './harness/vsix';
import { sleep, waitUntil } from './harness/wait';

const SOURCE = 'mlp_layers.ts';
const SOURCE_TEXT = [
  '// The layers of mlp.onnx: its nodes point at these lines.',
  'export const layers = [',
  "  'fc1 = matmul(x, W1)',",
  "  'h = relu(fc1)',",
  "  'y = matmul(h, W2)',",
  '];',
  '',
].join('\n');

/** x[8,512] -> MatMul W1[512,2048] (line 3) -> Relu (line 4) -> MatMul W2[2048,512] (line 5) -> y. */
function mlp(sourceFile: string) {
  const at = (line: number) => ({ 'memlens.file': sourceFile, 'memlens.line': String(line) });
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [8, 512]);
  const h = b.one('MatMul', [x, b.weight('W1', [512, 2048])], { name: 'fc1', metadata: at(3) });
  const r = b.one('Relu', [h], { name: 'relu', metadata: at(4) });
  b.one('MatMul', [r, b.weight('W2', [2048, 512])], { name: 'fc2', outputs: ['y'], metadata: at(5) });
  b.output('y', 'float32', [8, 512]);
  return b.model();
}

/** A TypeScript model that leaves `executed.marker` behind when its code runs. */
const MARKER_MODEL_TS = [
  "import * as nn from 'memlens/nn';",
  "import * as fs from 'fs';",
  '',
  "fs.writeFileSync(__dirname + '/executed.marker', 'the model file ran');",
  '',
  'export class Tiny extends nn.Module {',
  "  static inputs = { x: nn.input(['batch', 16]) };",
  '  fc = new nn.Linear(16, 16);',
  '  forward(x: nn.Tensor): nn.Tensor {',
  '    return this.fc.forward(x);',
  '  }',
  '}',
  '',
].join('\n');

/** A PyTorch model that leaves `executed.marker` behind when its code runs (a comment makes each copy unique). */
function markerNet(workspace: string): string {
  return [
    `# ${workspace}`,
    'import pathlib',
    '',
    'import torch',
    'import torch.nn as nn',
    '',
    "pathlib.Path(__file__).with_name('executed.marker').write_text('the model file ran')",
    '',
    '',
    'class TinyNet(nn.Module):',
    '    def __init__(self):',
    '        super().__init__()',
    '        self.fc1 = nn.Linear(256, 1024)',
    '        self.act = nn.ReLU()',
    '        self.fc2 = nn.Linear(1024, 256)',
    '',
    '    def forward(self, x):',
    '        h = self.act(self.fc1(x))',
    '        return self.fc2(h)',
    '',
    '',
    "if __name__ == '__main__':",
    '    model = TinyNet()',
    '    x = torch.randn(8, 256)',
    '    print(model(x).shape)',
    '',
  ].join('\n');
}

function makeWorkspace(): string {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-ext-ws-'));
  fs.writeFileSync(path.join(ws, SOURCE), SOURCE_TEXT);
  fs.writeFileSync(path.join(ws, 'mlp.onnx'), encodeModel(mlp(path.join(ws, SOURCE))));
  fs.writeFileSync(path.join(ws, 'broken.onnx'), Buffer.from('this is not an ONNX model\n'));
  fs.writeFileSync(path.join(ws, 'tiny_net.py'), markerNet(ws));
  return ws;
}

/** The engine as the extension loads it (compiled sources; the same code the bundle holds). */
function engineApi(): EngineApi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- typed as the loader types it
  return require('../../extension/presentation/editor-api') as EngineApi;
}

let vsix: string;
before(async () => {
  vsix = await ensureVsix();
}, { timeout: 600_000 });

describe('MemLens on samples/gpt2.ts', { timeout: 600_000 }, () => {
  let workspace: string;
  let session: Session | undefined;
  let file: string;
  let profile: Profile;

  before(async () => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-gpt2-ws-'));
    file = path.join(workspace, 'gpt2.ts');
    fs.copyFileSync(path.join(repoRoot, 'samples', 'gpt2.ts'), file);
    fs.writeFileSync(path.join(workspace, 'marker_model.ts'), MARKER_MODEL_TS);
    // What the extension should show: the same engine on the same file (default settings).
    profile = (await engineApi().profileFile({ file, settings: withDefaults({}), trusted: true, timeoutMs: 120_000 })).profile;
    session = await startSession({ name: 'extension-gpt2', workspace, extensions: [vsix] });
  });

  after(async () => {
    await session?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  test('opening the model traces it: figures on its lines and the peak on its entry', { timeout: 240_000 }, async () => {
    const { workbench } = session!;
    await workbench.openFile('gpt2.ts');
    await workbench.goToLine(60);
    const source = fs.readFileSync(file, 'utf8').split('\n');
    const expectedByText = new Map(lineDecorations(profile, file, 'compact').map((d) => [source[d.line - 1], d.text]));
    const shown = await waitUntil('inline figures on gpt2.ts', 180_000, async () => {
      const f = await inlineFigures(workbench.page);
      return f.some((x) => x.text === source[59]) ? f : undefined;
    }, 500);
    for (const f of shown) assert.equal(f.figure, expectedByText.get(f.text), `figure on "${f.text.trim()}"`);
    // Line 60 (the MLP's c_fc and GELU) runs once per block: 12 times.
    assert.match(shown.find((f) => f.text === source[59])!.figure, / at peak · ×12$/);
    await workbench.goToLine(123);
    const lens = await workbench.waitForText('.monaco-editor .codelens-decoration', /Peak /, 'the peak CodeLens on the gpt2 entry', 60_000);
    assert.match(lens, new RegExp(`^Peak ${formatBytes(profile.peak.bytes).replace('.', '\\.')} · inference · batch 1 · seq 128`));
    await workbench.waitForText('.part.statusbar .statusbar-item', new RegExp(`MemLens ${formatBytes(profile.peak.bytes).replace('.', '\\.')}`), 'the status bar peak');
    await workbench.screenshot('gpt2-figures');
  });

  test('the timeline opens; a click on the peak and on a table row moves the editor to that line', { timeout: 180_000 }, async () => {
    const { workbench } = session!;
    await workbench.runCommand('MemLens: Show Memory Timeline');
    const frame = await webviewFrame(workbench.page, 'canvas#timeline[data-peak-x]', 'the timeline of gpt2.ts', 90_000);
    const marker = await peakMarker(frame);
    const peakPoint = profile.timeline.reduce((a, b) => (b.liveBytes > a.liveBytes ? b : a));
    assert.equal(marker.index, peakPoint.index);
    await workbench.screenshot('gpt2-timeline');
    await (await frame.$('canvas#timeline'))!.click({ position: { x: marker.x, y: marker.y } });
    assert.ok(profile.peak.source, 'the peak has a source line');
    await workbench.waitForCursorLine(profile.peak.source.line, 30_000);
    // The table row of the line holding the most at the peak.
    const top = profile.lines.filter((l) => l.line !== null && l.peakBytes > 0).sort((a, b) => b.peakBytes - a.peakBytes)[0];
    const f2 = await webviewFrame(workbench.page, 'canvas#timeline[data-peak-x]', 'the timeline of gpt2.ts');
    await f2.click(`table.live tbody tr[data-line="${top.line}"]`);
    await workbench.waitForCursorLine(top.line!, 30_000);
    await workbench.screenshot('gpt2-timeline-row-click');
  });

  test('the timeline panel comes back after a window reload, from the state it kept', { timeout: 180_000 }, async () => {
    const { workbench } = session!;
    await workbench.runCommand('Developer: Reload Window');
    await workbench.waitForSelector('.monaco-workbench', { what: 'the workbench after the reload', timeoutMs: 60_000 });
    const frame = await webviewFrame(workbench.page, 'canvas#timeline[data-peak-x]', 'the restored timeline of gpt2.ts', 90_000);
    assert.match((await frame.textContent('#peak-summary')) ?? '', new RegExp(`^Peak ${formatBytes(profile.peak.bytes).replace('.', '\\.')}`));
    await workbench.waitForSelector('.tab[aria-label^="Memory: gpt2.ts"]', { what: 'the restored panel tab' });
  });

  test('Export Memory Trace writes a Chrome trace of the timeline', { timeout: 120_000 }, async () => {
    const { workbench } = session!;
    await workbench.openFile('gpt2.ts');
    // After the window reload the model is traced again before there is a timeline to export.
    await workbench.waitForStatusBarItem(new RegExp(`MemLens ${formatBytes(profile.peak.bytes).replace('.', '\\.')}`), 'the status bar peak', 180_000);
    await workbench.runCommand('MemLens: Export Memory Trace (Chrome/Perfetto JSON)…');
    // code-server's save dialog is a quick input holding the proposed path.
    await workbench.waitForSelector('.quick-input-widget .quick-input-box input', { what: 'the save dialog' });
    await workbench.page.keyboard.press('Enter');
    const out = path.join(workspace, 'gpt2.memlens-trace.json');
    await waitUntil('the exported trace', 30_000, () => fs.existsSync(out) && fs.statSync(out).size > 0);
    const trace = JSON.parse(fs.readFileSync(out, 'utf8')) as { traceEvents: Array<{ ph: string }>; otherData: { peakBytes: number } };
    // Two metadata events, then a counter and a slice per step.
    assert.equal(trace.traceEvents.length, 2 + 2 * profile.timeline.length);
    assert.equal(trace.otherData.peakBytes, profile.peak.bytes);
  });

  test('in a trusted workspace a TypeScript model file runs when traced (the Restricted Mode check can fail)', { timeout: 120_000 }, async () => {
    const { workbench } = session!;
    await workbench.openFile('marker_model.ts');
    await waitUntil('marker_model.ts to be traced', 90_000, () => fs.existsSync(path.join(workspace, 'executed.marker')));
  });
});

describe('MemLens in VS Code', { timeout: 600_000 }, () => {
  let workspace: string;
  let session: Session | undefined;
  const expected = () => analyzeModel(mlp(path.join(workspace, SOURCE)), withDefaults({}), { source: 'mlp.onnx', entry: null });

  before(async () => {
    workspace = makeWorkspace();
    // 6 MiB: the 8.1 MiB peak of mlp.onnx is 2.1 MiB over it, which fc1's line (4.1 MiB at the peak) covers.
    session = await startSession({ name: 'extension', workspace, extensions: [vsix], settings: { 'memlens.budget': '6MiB' } });
  });

  after(async () => {
    await session?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  test('an .onnx file opens as a memory summary with the timeline and the peak marked', { timeout: 180_000 }, async () => {
    const { workbench } = session!;
    await openCustomEditorFile(workbench.page, 'mlp.onnx');
    const frame = await webviewFrame(workbench.page, 'canvas#timeline[data-peak-x]', 'the timeline chart of mlp.onnx', 90_000);
    const p = expected();
    // Hand check of the engine's figure: weights 2 x 4 MiB + x 16 KiB + h 64 KiB + y 16 KiB.
    assert.equal(p.peak.bytes, 2 * 4 * 2 ** 20 + 16 * 1024 + 64 * 1024 + 16 * 1024);
    const summary = await frame.textContent('#peak-summary');
    assert.match(summary ?? '', new RegExp(`^Peak ${formatBytes(p.peak.bytes).replace('.', '\\.')} · forward · MatMul fc2 · ${SOURCE.replace('.', '\\.')}:5$`));
    const rows = await frame.$$eval('table.live tbody tr', (trs) => trs.map((tr) => (tr as unknown as { dataset: Record<string, string> }).dataset.line));
    assert.deepEqual(rows, p.lines.filter((l) => l.peakBytes > 0).sort((a, b) => b.peakBytes - a.peakBytes).map((l) => String(l.line)));
    const status = await workbench.waitForText('.part.statusbar .statusbar-item', /MemLens \d/, 'the MemLens status bar item', 30_000);
    assert.equal(status.trim(), `MemLens ${formatBytes(p.peak.bytes)} / 6.0 MiB`);
    await workbench.screenshot('timeline-onnx');
  });

  test('clicking the peak opens its source line, with figures on the lines', { timeout: 180_000 }, async () => {
    const { workbench } = session!;
    const frame = await webviewFrame(workbench.page, 'canvas#timeline[data-peak-x]', 'the timeline chart');
    const marker = await peakMarker(frame);
    assert.equal(marker.index, 2);
    await (await frame.$('canvas#timeline'))!.click({ position: { x: marker.x, y: marker.y } });
    await workbench.waitForCursorLine(5, 30_000);
    const texts = await waitUntil('inline figures on mlp_layers.ts', 30_000, async () => {
      const t = await inlineFigureTexts(workbench.page);
      return t.length >= 3 ? t : undefined;
    });
    const p = expected();
    const byLine = new Map(p.lines.map((l) => [l.line, l]));
    assert.deepEqual(texts, [
      `${formatBytes(byLine.get(3)!.peakBytes)} at peak`,
      `makes ${formatBytes(byLine.get(4)!.bytes)}`,
      `${formatBytes(byLine.get(5)!.peakBytes)} at peak`,
    ]);
    await workbench.screenshot('peak-click-figures');
    // The line that pushes the peak over the budget is a problem with its code.
    await workbench.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
    const problem = await workbench.waitForText('.markers-panel .monaco-list-row', /over the 6\.0 MiB budget/, 'the over-budget problem', 30_000);
    assert.match(problem, new RegExp(`${formatBytes(byLine.get(3)!.peakBytes).replace('.', '\\.')} live at the peak`));
    assert.match(problem, /memlens\.overBudget/);
    const rows = await workbench.page.locator('.markers-panel .monaco-list-row').allTextContents();
    assert.equal(rows.filter((r) => /over the 6\.0 MiB budget/.test(r)).length, 1, rows.join(' | '));
    await workbench.screenshot('over-budget-problem');
  });

  test('a broken model gives one clear message and the rest keeps working', { timeout: 180_000 }, async () => {
    const { workbench } = session!;
    await openCustomEditorFile(workbench.page, 'broken.onnx');
    const message = await workbench.waitForText('.notifications-toasts .notification-toast', /MemLens: /, 'the error notification', 60_000);
    assert.match(message, /broken\.onnx/);
    await sleep(2_000);
    const memlensToasts = (await workbench.notifications()).filter((t) => t.includes('MemLens'));
    assert.equal(memlensToasts.length, 1, `expected one MemLens message, got: ${memlensToasts.join(' | ')}`);
    await workbench.screenshot('broken-model');
    // The summary shows the same message, and the good model still opens and draws.
    const errorFrame = await webviewFrame(workbench.page, '#error', 'the error in the summary of broken.onnx');
    assert.match((await errorFrame.textContent('#error')) ?? '', /broken\.onnx/);
    await workbench.runCommand('View: Close All Editors');
    await openCustomEditorFile(workbench.page, 'mlp.onnx');
    await webviewFrame(workbench.page, 'canvas#timeline[data-peak-x]', 'the timeline of mlp.onnx after the failure', 60_000);
  });
  test('Run on GPU measures the model on ONNX Runtime (CPU here) and draws the measured series', { timeout: 180_000 }, async () => {
    const { workbench } = session!;
    await workbench.runCommand('MemLens: Run on GPU (measure with ONNX Runtime)');
    const frame = await waitUntil('the measured figures in a timeline', 120_000, async () => {
      for (const f of workbench.page.frames()) {
        const text = await f.textContent('dl.summary').catch(() => null);
        if (text && /Measured \(cpu\)/.test(text)) return f;
      }
      return undefined;
    }, 500);
    const summary = (await frame.textContent('dl.summary')) ?? '';
    assert.match(summary, /Measured \(cpu\)\d/);
    await workbench.screenshot('run-measured');
  });

  test('the panel controls re-profile: training adds the backward and optimizer phases', { timeout: 180_000 }, async () => {
    const { workbench } = session!;
    const frame = await webviewFrame(workbench.page, 'canvas#timeline[data-peak-x]', 'the timeline of mlp.onnx');
    await frame.selectOption('select#setting-mode', 'train');
    await frame.click('button#apply-settings');
    const train = analyzeModel(mlp(path.join(workspace, SOURCE)), withDefaults({ mode: 'train' }), { source: 'mlp.onnx', entry: null });
    const peakText = `Peak ${formatBytes(train.peak.bytes)} · ${train.peak.phase}`;
    await waitUntil('the training profile in the panel', 60_000, async () => {
      const f = await webviewFrame(workbench.page, 'canvas#timeline[data-peak-x]', 'the timeline of mlp.onnx');
      return ((await f.textContent('#peak-summary')) ?? '').startsWith(peakText);
    });
    const f = await webviewFrame(workbench.page, 'canvas#timeline[data-peak-x]', 'the timeline of mlp.onnx');
    const summary = (await f.textContent('dl.summary')) ?? '';
    assert.match(summary, new RegExp(`Gradients${formatBytes(train.totals.gradientBytes).replace('.', '\\.')}`));
    assert.equal(Number((await peakMarker(f)).index), train.timeline.length - 1);
    await workbench.screenshot('timeline-training');
  });
});

describe('MemLens on a PyTorch model in a trusted workspace', { timeout: 600_000 }, () => {
  let workspace: string;
  let session: Session | undefined;

  before(async () => {
    workspace = makeWorkspace();
    session = await startSession({ name: 'extension-python', workspace, extensions: [vsix] });
  });

  after(async () => {
    await session?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  test('opening the model exports it: figures on its lines, the peak on its CodeLens, the breakdown on hover', { timeout: 240_000 }, async () => {
    const { workbench } = session!;
    const file = path.join(workspace, 'tiny_net.py');
    await workbench.openFile('tiny_net.py');
    const texts = await waitUntil('inline figures on tiny_net.py', 180_000, async () => {
      const t = await inlineFigureTexts(workbench.page);
      return t.length >= 2 ? t : undefined;
    }, 500);
    // The user's code ran (trusted): the marker is the proof that the same check in Restricted Mode can fail.
    assert.equal(fs.existsSync(path.join(workspace, 'executed.marker')), true);
    // The same figures as the engine computes for the same export.
    // As the editor profiles it: no batch setting written, so the script's own batch (8) is used.
    const { profile } = await engineApi().profileFile({ file, settings: withDefaults({}), given: { batch: false, seq: false, optimizer: false, mode: false }, trusted: true, timeoutMs: 120_000 });
    assert.equal(profile.settings.batch, 8);
    assert.deepEqual(texts, lineDecorations(profile, file, 'compact').map((d) => d.text));
    const lens = await workbench.waitForText('.monaco-editor .codelens-decoration', /Peak /, 'the peak CodeLens', 60_000);
    assert.match(lens, new RegExp(`Peak ${formatBytes(profile.peak.bytes).replace('.', '\\.')} · inference · batch 8\\b`));
    const forwardLine = workbench.page.locator('.part.editor .editor-group-container.active .view-line', { hasText: 'return self.fc2(h)' });
    await forwardLine.hover({ position: { x: 40, y: 5 } });
    const hover = await workbench.waitForText('.monaco-hover', /live at the peak/, 'the MemLens hover', 30_000);
    assert.match(hover, /tiny_net\.py:19/);
    assert.match(hover, /Timeline · Fix… · Profile with…/);
    await workbench.screenshot('python-figures-hover');
    // The hover's Timeline link opens the model's timeline.
    await workbench.page.locator('.monaco-hover a', { hasText: 'Timeline' }).first().click();
    const timeline = await webviewFrame(workbench.page, 'canvas#timeline[data-y-ticks]', 'the timeline opened from the hover', 90_000);
    assert.equal(await timeline.textContent('h1'), 'tiny_net.py');
  });
});

describe('MemLens in Restricted Mode', { timeout: 600_000 }, () => {
  let workspace: string;
  let session: Session | undefined;
  const marker = () => path.join(workspace, 'executed.marker');

  before(async () => {
    workspace = makeWorkspace();
    fs.writeFileSync(path.join(workspace, 'marker_model.ts'), MARKER_MODEL_TS);
    session = await startSession({
      name: 'extension-restricted',
      workspace,
      extensions: [vsix],
      settings: { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' },
    });
  });

  after(async () => {
    await session?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  test('a TypeScript model is not traced, and the status bar and the command say why', { timeout: 180_000 }, async () => {
    const { workbench } = session!;
    await workbench.openFile('marker_model.ts');
    await workbench.waitForText('.part.statusbar .statusbar-item', /MemLens: Restricted Mode/, 'the Restricted Mode status bar item', 60_000);
    const lens = await workbench.waitForText('.monaco-editor .codelens-decoration', /Restricted Mode/, 'the Restricted Mode CodeLens', 60_000);
    assert.match(lens, /trust the workspace to profile/);
    await workbench.runCommand('MemLens: Profile Current Model');
    const message = await workbench.waitForText('.notifications-toasts .notification-toast', /MemLens: /, 'the Restricted Mode message', 30_000);
    assert.match(message, /Restricted Mode does not allow/);
    await workbench.screenshot('restricted-mode');
    // Give a refused trace time to have run, had it run.
    await sleep(3_000);
    assert.equal(fs.existsSync(marker()), false, 'the model file ran in Restricted Mode');
  });

  test('a PyTorch model is not exported (its code would run)', { timeout: 180_000 }, async () => {
    const { workbench } = session!;
    await workbench.runCommand('Notifications: Clear All Notifications');
    await workbench.openFile('tiny_net.py');
    await workbench.waitForText('.part.statusbar .statusbar-item', /MemLens: Restricted Mode/, 'the Restricted Mode status bar item', 60_000);
    await workbench.runCommand('MemLens: Profile Current Model');
    await workbench.waitForText('.notifications-toasts .notification-toast', /Restricted Mode does not allow/, 'the Restricted Mode message', 30_000);
    await sleep(5_000);
    assert.equal(fs.existsSync(marker()), false, 'the Python model ran in Restricted Mode');
    assert.deepEqual(await inlineFigureTexts(workbench.page), []);
  });

  test('an .onnx file still opens with its timeline in Restricted Mode', { timeout: 180_000 }, async () => {
    const { workbench } = session!;
    await openCustomEditorFile(workbench.page, 'mlp.onnx');
    await webviewFrame(workbench.page, 'canvas#timeline[data-peak-x]', 'the timeline of mlp.onnx in Restricted Mode', 90_000);
    assert.equal(fs.existsSync(marker()), false);
  });
});
