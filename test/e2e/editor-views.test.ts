// The editor's views stay current and say what the engine says, in a real VS Code (code-server):
// one profile per file publishes its over-budget problems (two entries describing one file do not
// pile up); figures and the hover are hidden while a file has unsaved edits and come back with
// Undo; the quick fixes mark which fit the budget and Auto Fix applies the cheapest that fits; a
// shape error is a problem on its line until the next profile; Fit to Budget on a model with
// Dropout says the plan recomputes it, previews the edit as a diff and says what it applied.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { withDefaults } from '../../extension/engine/settings';
import { formatBytes } from '../../extension/engine/units';
import type { Profile } from '../../extension/engine/profile';
import { lineDecorations } from '../../extension/presentation/line-figures';
import { overBudget } from '../../extension/presentation/over-budget';
import type { EngineApi } from '../../extension/vscode/engine-loader';
import { openActionMenu } from './code-action-menu';
import { inlineFigures, webviewFrame } from './extension-webview';
import { startSession, type Session } from './harness/session';
import { ensureVsix } from './harness/vsix';
import { sleep, waitUntil } from './harness/wait';

const MiB = 2 ** 20;

const MLP_TS = [
  "import * as nn from 'memlens/nn';", //                     1
  '', //                                                      2
  'export class Net extends nn.Module {', //                  3
  '  fc1: nn.Linear;', //                                     4
  '  fc2: nn.Linear;', //                                     5
  '', //                                                      6
  '  constructor() {', //                                     7
  '    super();', //                                          8
  '    this.fc1 = new nn.Linear(1024, 4096);', //             9
  '    this.fc2 = new nn.Linear(4096, 1024);', //             10
  '  }', //                                                   11
  '', //                                                      12
  '  forward(x: nn.Tensor): nn.Tensor {', //                  13
  '    const h = nn.relu(this.fc1.forward(x));', //           14
  '    return this.fc2.forward(h);', //                       15
  '  }', //                                                   16
  '}', //                                                     17
  '', //                                                      18
  'export const mlp = nn.entry({', //                         19
  "  description: 'two linear layers',", //                  20
  '  config: {},', //                                         21
  '  model: () => new Net(),', //                             22
  "  inputs: () => ({ x: nn.input(['batch', 1024]) }),", //   23
  '});', //                                                   24
  '',
].join('\n');
/** The layer each forward line calls, and the line that builds it. */
const LAYERS: Record<number, { attr: string; built: number }> = { 14: { attr: 'fc1', built: 9 }, 15: { attr: 'fc2', built: 10 } };
const BUDGET_MIB = 20;

/** A second entry over the same layers: its profile describes mlp.ts's lines too. */
const WIDE_TS = [
  "import * as nn from 'memlens/nn';",
  "import { Net } from './mlp';",
  '',
  'export const wide = nn.entry({',
  "  description: 'the same layers at batch 256',",
  '  config: {},',
  '  model: () => new Net(),',
  '  inputs: () => ({ x: nn.input([256, 1024]) }),',
  '});',
  '',
].join('\n');

const SHAPE_LINE = 9;
/** A PyTorch model whose forward multiplies mismatched shapes at line 8: the export fails there. */
const PY_SHAPE_LINE = 8;
const SHAPE_BUG_PY = [
  'import torch', //                                           1
  'from torch import nn', //                                   2
  'class Net(nn.Module):', //                                  3
  '    def __init__(self):', //                                4
  '        super().__init__()', //                             5
  '        self.fc = nn.Linear(64, 32)', //                    6
  '    def forward(self, x):', //                              7
  '        return self.fc(x) @ torch.ones(16, 8)', //          8
  'model = Net()', //                                          9
  'model(torch.randn(2, 64))', //                             10
  '',
].join('\n');
const shapeBug = (inFeatures: number) => [
  "import * as nn from 'memlens/nn';", //                     1
  '', //                                                      2
  'export class Bad extends nn.Module {', //                  3
  "  static inputs = { x: nn.input(['batch', 64]) };", //     4
  '  fc1 = new nn.Linear(64, 128);', //                       5
  `  fc2 = new nn.Linear(${inFeatures}, 32);`, //             6
  '  forward(x: nn.Tensor): nn.Tensor {', //                  7
  '    const h = this.fc1.forward(x);', //                    8
  '    return this.fc2.forward(h);', //                       9
  '  }', //                                                   10
  '}', //                                                     11
  '',
].join('\n');

/** Four blocks with Dropout after the GELU, one training step with fixed sizes (the peak is in the backward). */
const DROP_TS = [
  "import * as nn from 'memlens/nn';",
  '',
  'class Block extends nn.Module {',
  '  ln: nn.LayerNorm;',
  '  up: nn.Linear;',
  '  down: nn.Linear;',
  '',
  '  constructor(hidden: number) {',
  '    super();',
  '    this.ln = new nn.LayerNorm(hidden);',
  '    this.up = new nn.Linear(hidden, 4 * hidden);',
  '    this.down = new nn.Linear(4 * hidden, hidden);',
  '  }',
  '',
  '  forward(x: nn.Tensor): nn.Tensor {',
  '    const h = nn.dropout(nn.gelu(this.up.forward(this.ln.forward(x))), 0.1);',
  '    return x.add(this.down.forward(h));',
  '  }',
  '}',
  '',
  'export class Net extends nn.Module {',
  '  blocks: Block[];',
  '  head: nn.Linear;',
  '',
  '  constructor(hidden = 256, layers = 4) {',
  '    super();',
  '    this.blocks = Array.from({ length: layers }, () => new Block(hidden));',
  '    this.head = new nn.Linear(hidden, 10);',
  '  }',
  '',
  '  forward(x: nn.Tensor): nn.Tensor {',
  '    for (const block of this.blocks) x = block.forward(x);',
  '    return this.head.forward(x);',
  '  }',
  '}',
  '',
  'export const dropTrain = nn.entry({',
  "  description: 'four blocks with dropout, one training step',",
  "  mode: 'train',",
  '  config: {},',
  '  model: () => new Net(),',
  '  inputs: () => ({',
  "    x: nn.input([16, 512, 256], 'float32'),",
  "    labels: nn.input([16, 512], 'int64', { range: [0, 10] }),",
  '  }),',
  '  forward: (m, { x, labels }) => ({ loss: nn.crossEntropy(m.forward(x), labels) }),',
  '});',
  '',
].join('\n');

function engineApi(): EngineApi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- typed as the loader types it
  return require('../../extension/presentation/editor-api') as EngineApi;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let vsix: string;
before(async () => {
  vsix = await ensureVsix();
}, { timeout: 600_000 });

describe('the editor views stay current', { timeout: 1_200_000 }, () => {
  let workspace: string;
  let session: Session | undefined;
  let mlp: Profile;
  let wide: Profile;
  let budgetBytes: number;
  /** Quantizations that fit the budget (re-analysed by the engine), by suggestion id. */
  let fitting: Map<string, number>;

  before(async () => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-views-ws-'));
    for (const [name, text] of [['mlp.ts', MLP_TS], ['mlp_wide.ts', WIDE_TS], ['shape_bug.ts', shapeBug(64)], ['shape_bug.py', SHAPE_BUG_PY], ['drop_train.ts', DROP_TS]]) {
      fs.writeFileSync(path.join(workspace, name), text);
    }
    const api = engineApi();
    const req = (file: string) => ({ file: path.join(workspace, file), settings: withDefaults({}), trusted: true, timeoutMs: 120_000 });
    mlp = (await api.profileFile(req('mlp.ts'))).profile;
    wide = (await api.profileFile(req('mlp_wide.ts'))).profile;
    // 20 MiB: quantizing one layer to int4 fits, and so does the whole model in int4; 8 bits do not
    // lower this peak (the weights are dequantized for the MatMul).
    budgetBytes = BUDGET_MIB * MiB;
    const set = await api.suggestForFile({ ...req('mlp.ts'), files: [] });
    const quantized = set.items.map((i) => i.suggestion).filter((s) => s.kind === 'quantize-weights' && s.reanalysed);
    fitting = new Map(quantized.filter((s) => s.reanalysed!.peakBytes <= budgetBytes).map((s) => [s.id, s.reanalysed!.peakBytes]));
    assert.ok(fitting.has('quantize:model:int4') && fitting.has('quantize:fc1:int4') && !fitting.has('quantize:fc1:int8'), [...fitting.keys()].join(', '));
    assert.ok(wide.peak.bytes > budgetBytes && mlp.peak.bytes > budgetBytes);
    session = await startSession({
      name: 'editor-views',
      workspace,
      extensions: [vsix],
      settings: { 'memlens.budget': `${BUDGET_MIB}MiB`, 'memlens.pythonPath': '/usr/bin/python3', 'files.autoSave': 'off' },
    });
  });

  after(async () => {
    await session?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  const statusPeak = (p: Profile) => new RegExp(`MemLens ${escape(formatBytes(p.peak.bytes))} / `);
  const problemRows = async () => (await session!.workbench.page.locator('.markers-panel .monaco-list-row').allTextContents()).map((r) => r.trim());

  test('two entries describing mlp.ts: its problems come from its own profile, one per line', { timeout: 300_000 }, async () => {
    const { workbench } = session!;
    await workbench.openFile('mlp_wide.ts');
    await workbench.waitForStatusBarItem(statusPeak(wide), 'the status bar peak of mlp_wide.ts', 180_000);
    await workbench.openFile('mlp.ts');
    await workbench.waitForStatusBarItem(statusPeak(mlp), 'the status bar peak of mlp.ts', 180_000);
    const own = overBudget(mlp, budgetBytes)!.lines.filter((l) => l.figures.file === path.join(workspace, 'mlp.ts'));
    assert.ok(own.length >= 1);
    await workbench.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
    const over = (rows: string[]) => rows.filter((r) => /over the .* budget/.test(r));
    await waitUntil('the over-budget problems of mlp.ts', 60_000, async () => over(await problemRows()).length > 0);
    await sleep(2_000);
    const rows = over(await problemRows());
    // Every line of mlp.ts once, each naming mlp.ts's own peak; none naming the other entry's.
    assert.equal(rows.length, own.length, rows.join(' | '));
    for (const r of rows) assert.match(r, new RegExp(`of ${escape(formatBytes(mlp.peak.bytes))}\\)`), r);
    assert.equal(new Set(rows).size, rows.length, 'no line twice');
    await workbench.screenshot('over-budget-problems');
  });

  test('unsaved edits hide the figures and the hover; Undo brings them back on their lines', { timeout: 240_000 }, async () => {
    const { workbench } = session!;
    await workbench.openFile('mlp.ts');
    const source = MLP_TS.split('\n');
    const expected = new Map(lineDecorations(mlp, path.join(workspace, 'mlp.ts'), 'compact').map((d) => [source[d.line - 1], d.text]));
    const shown = await waitUntil('figures on mlp.ts', 60_000, async () => {
      const f = await inlineFigures(workbench.page);
      return f.length === expected.size ? f : undefined;
    }, 500);
    for (const f of shown) assert.equal(f.figure, expected.get(f.text), `figure on "${f.text.trim()}"`);
    await workbench.screenshot('inline-figures');
    await workbench.goToLine(14, 20);
    await workbench.runCommand('Show or Focus Hover');
    await workbench.waitForText('.monaco-hover', /Timeline · Fix… · Profile with…/, 'the MemLens hover', 30_000);
    await sleep(500);
    await workbench.screenshot('hover');
    await workbench.page.keyboard.press('Escape');
    // Two lines inserted above the layers: every figure would now be two lines off.
    await workbench.goToLine(2);
    await workbench.page.keyboard.press('Enter');
    await workbench.page.keyboard.press('Enter');
    await workbench.waitForSelector('.tab.active.dirty[data-resource-name="mlp.ts"]', { what: 'the edited editor' });
    // Another editor and back: the figures are drawn again from the store.
    await workbench.openFile('mlp_wide.ts');
    await workbench.openFile('mlp.ts');
    await sleep(1_500);
    assert.deepEqual(await inlineFigures(workbench.page), [], 'no figures while the text differs from the profiled one');
    await workbench.goToLine(16, 20);
    await workbench.runCommand('Show or Focus Hover');
    await sleep(2_000);
    const hover = (await workbench.page.locator('.monaco-editor .monaco-hover:visible').allTextContents()).join(' ');
    assert.doesNotMatch(hover, /Profile with…/, 'no MemLens hover while edited');
    await workbench.page.keyboard.press('Escape');
    assert.equal(over(await problemRows()).length, 0, 'no over-budget problems on moved lines');
    await workbench.page.keyboard.press('Control+Z');
    await workbench.page.keyboard.press('Control+Z');
    await workbench.waitForSelector('.tab.active:not(.dirty)[data-resource-name="mlp.ts"]', { what: 'the editor back at the saved text' });
    const back = await waitUntil('the figures back', 30_000, async () => {
      const f = await inlineFigures(workbench.page);
      return f.length === expected.size ? f : undefined;
    }, 500);
    for (const f of back) assert.equal(f.figure, expected.get(f.text), `figure on "${f.text.trim()}" after Undo`);
  });

  const over = (rows: string[]) => rows.filter((r) => /over the .* budget/.test(r));

  test('the quick fixes say which fit the budget, and Auto Fix applies the cheapest that fits', { timeout: 300_000 }, async () => {
    const { workbench } = session!;
    await workbench.openFile('mlp.ts');
    const line = overBudget(mlp, budgetBytes)!.lines[0].figures.line!;
    const layer = LAYERS[line];
    assert.ok(layer, `the first over-budget line ${line} calls a layer`);
    const rows = await openActionMenu(workbench, line, /^Quantize the weights of the whole model/);
    const fits = (r: string) => r.includes(`fits the ${formatBytes(budgetBytes)} budget`);
    const row = (prefix: string) => rows.find((r) => r.startsWith(prefix));
    assert.ok(fits(row('Quantize the weights of the whole model to int4') ?? ''), rows.join(' | '));
    assert.ok(fits(row(`Quantize the weights of ${layer.attr} to int4`) ?? ''), rows.join(' | '));
    await workbench.screenshot('code-action-menu');
    await workbench.page.keyboard.press('Escape');
    // Auto Fix (Shift+Alt+.) applies the preferred quick fix of the problem under the cursor.
    const file = path.join(workspace, 'mlp.ts');
    await workbench.goToLine(line);
    await waitUntil('the preferred fix applied', 120_000, async () => {
      if (fs.readFileSync(file, 'utf8') !== MLP_TS) return true;
      await workbench.page.keyboard.press('Shift+Alt+Period');
      await sleep(2_000);
      return undefined;
    }, 500);
    const written = await waitUntil('the rewrite saved', 30_000, () => {
      const t = fs.readFileSync(file, 'utf8');
      return /nn\.quantize\(/.test(t) ? t : undefined;
    });
    // The cheapest fix that fits: the one layer in int4, not the whole model.
    const lines = written.split('\n');
    assert.match(lines.find((l) => l.includes(`this.${layer.attr} = `)) ?? '', /nn\.quantize\(new nn\.Linear\(.*'int4'/, written);
    assert.ok(lines.includes('  model: () => new Net(),'), `the whole model is not quantized:\n${written}`);
  });

  test('a shape error is a problem on its line, gone after the next successful profile', { timeout: 240_000 }, async () => {
    const { workbench } = session!;
    await workbench.openFile('shape_bug.ts');
    await workbench.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
    const row = await workbench.waitForText('.markers-panel .monaco-list-row', /shape mismatch/, 'the shape error in Problems', 120_000);
    assert.match(row, new RegExp(`shape_bug\\.ts:${SHAPE_LINE}: shape mismatch`));
    assert.match(row, new RegExp(`\\[Ln ${SHAPE_LINE}, Col 1\\]`));
    await workbench.screenshot('shape-error-problem');
    // Fixed on disk (the editor has no unsaved edits, so it shows the new text), then profiled.
    fs.writeFileSync(path.join(workspace, 'shape_bug.ts'), shapeBug(128));
    await waitUntil('the fixed text in the editor', 30_000, async () => (await workbench.visibleEditorLines()).includes('  fc2 = new nn.Linear(128, 32);'));
    await workbench.runCommand('MemLens: Profile Current Model');
    await workbench.waitForStatusBarItem(/MemLens \d/, 'the status bar peak of the fixed model', 120_000);
    await waitUntil('the shape error gone', 30_000, async () => !(await problemRows()).some((r) => /shape mismatch/.test(r)));
  });

  test('a Python export error is a problem on the line that raised it', { timeout: 240_000 }, async () => {
    const { workbench } = session!;
    await workbench.openFile('shape_bug.py');
    await workbench.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
    const row = await workbench.waitForText('.markers-panel .monaco-list-row', /shape_bug\.py.*at shape_bug\.py:/, 'the export error in Problems', 180_000);
    assert.match(row, new RegExp(`at shape_bug\\.py:${PY_SHAPE_LINE}: RuntimeError: mat1 and mat2 shapes cannot be multiplied`));
    assert.match(row, new RegExp(`\\[Ln ${PY_SHAPE_LINE}, Col 1\\]`));
  });

  test('Fit to Budget on a model with Dropout: the plan says it recomputes Dropout, the preview is a diff, Apply writes and says so', { timeout: 300_000 }, async () => {
    const { workbench } = session!;
    const file = path.join(workspace, 'drop_train.ts');
    // As the editor does: no setting written, so the entry's own mode (train) holds.
    const given = { mode: false, batch: false, seq: false, optimizer: false };
    const { profile } = await engineApi().profileFile({ file, settings: withDefaults({}), given, trusted: true, timeoutMs: 120_000 });
    assert.equal(profile.settings.mode, 'train');
    await workbench.openFile('drop_train.ts');
    await workbench.waitForStatusBarItem(statusPeak(profile), 'the status bar peak of drop_train.ts', 180_000);
    await workbench.runCommand('MemLens: Fit to Budget…');
    const input = '.quick-input-widget .quick-input-box input';
    await workbench.waitForSelector(input, { what: 'the budget input' });
    await workbench.page.fill(input, `${Math.floor((0.7 * profile.peak.bytes) / MiB)}MiB`);
    await workbench.page.keyboard.press('Enter');
    const rows = await waitUntil('the plans', 120_000, async () => {
      const r = await workbench.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').allTextContents();
      return r.some((t) => /checkpoint/.test(t)) ? r : undefined;
    }, 500);
    assert.match(rows[0], /checkpoint \d+ layers?.*recomputes Dropout \(new random numbers\)/);
    assert.ok(rows.every((r) => !/\bexact\b/.test(r)), rows.join(' | '));
    await workbench.screenshot('fit-budget-dropout');
    await workbench.page.keyboard.press('Enter');
    const dialog = '.monaco-dialog-box';
    await workbench.waitForSelector(dialog, { what: 'the apply dialog' });
    await workbench.page.locator(`${dialog} .monaco-button`, { hasText: 'Preview…' }).click();
    // The preview: a diff of the file and the file with the plan, then Apply in a dialog.
    await workbench.waitForSelector('.tab[aria-label*="↔"]', { what: 'the diff of the plan' });
    await workbench.waitForSelector(dialog, { what: 'the apply-after-preview dialog' });
    await workbench.screenshot('fit-budget-diff-preview');
    assert.equal(fs.readFileSync(file, 'utf8'), DROP_TS, 'nothing written before Apply');
    await workbench.page.locator(`${dialog} .monaco-button`, { hasText: 'Apply' }).first().click();
    await waitUntil('the plan written to disk', 60_000, () => /nn\.checkpoint\(/.test(fs.readFileSync(file, 'utf8')));
    await workbench.waitForNotification(/MemLens: applied checkpoint \d+ layers? to drop_train\.ts \(peak .* → .*\); Undo takes it back/, 'the applied message');
    await workbench.runCommand('MemLens: Show Memory Timeline');
    const panel = await webviewFrame(workbench.page, 'canvas#timeline[data-peak-x]', 'the timeline of drop_train.ts', 90_000);
    // The entry declares mode: 'train' and no mode is configured: the panel's Mode control says what
    // the figures are for (it read the configured 'infer' before).
    assert.equal(await panel.$eval('#setting-mode', (e) => (e as unknown as { value: string }).value), 'train');
    await workbench.screenshot('timeline');
  });
});
