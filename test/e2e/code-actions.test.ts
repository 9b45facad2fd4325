// Memory-saving rewrites as code actions in a real VS Code (code-server): the quick fix on a
// training model's layer loop rewrites the loop, the file is profiled again and the status bar
// peak goes down to the re-analysed figure; Undo gives back the original bytes; a file with
// unsaved changes is refused; Fit to Budget shows the plan and applies it after a diff preview.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { withDefaults } from '../../extension/engine/settings';
import { fitBudget } from '../../extension/engine/suggest/planner';
import { formatBytes } from '../../extension/engine/units';
import { loadModel } from '../../extension/analysis/load-model';
import { lineDecorations } from '../../extension/presentation/line-figures';
import { peakChange } from '../../extension/presentation/suggestion-actions';
import { focusActionRow, openActionMenu } from './code-action-menu';
import { inlineFigures, openCustomEditorFile, peakMarker, webviewFrame } from './extension-webview';
import { analyzeModel } from '../../extension/engine/analyze';
import { decodeModel } from '../../extension/engine/onnx/decode';
import { encodeModel } from '../../extension/engine/onnx/encode';
import { GraphBuilder } from '../fixtures/graph-builder';
import type { EngineApi } from '../../extension/vscode/engine-loader';
import { applyEdits } from '../../language/typescript/rewrites/text-edit';
import { startSession, type Session } from './harness/session';
import { ensureVsix } from './harness/vsix';
import { repoRoot } from './harness/paths';
import { sleep, waitUntil } from './harness/wait';

const MODEL = 'tiny_train.ts';
const LOOP_LINE = 33;
const MODEL_TS = [
  '// Eight MLP blocks and a classifier head: one training step.', //   1
  "import * as nn from 'memlens/nn';", //                                2
  '', //                                                                 3
  'class Block extends nn.Module {', //                                  4
  '  ln: nn.LayerNorm;', //                                              5
  '  up: nn.Linear;', //                                                 6
  '  down: nn.Linear;', //                                               7
  '', //                                                                 8
  '  constructor(hidden: number) {', //                                  9
  '    super();', //                                                     10
  '    this.ln = new nn.LayerNorm(hidden);', //                          11
  '    this.up = new nn.Linear(hidden, 4 * hidden);', //                 12
  '    this.down = new nn.Linear(4 * hidden, hidden);', //               13
  '  }', //                                                              14
  '', //                                                                 15
  '  forward(x: nn.Tensor): nn.Tensor {', //                             16
  '    const h = nn.gelu(this.up.forward(this.ln.forward(x)));', //      17
  '    return x.add(this.down.forward(h));', //                          18
  '  }', //                                                              19
  '}', //                                                                20
  '', //                                                                 21
  'export class Net extends nn.Module {', //                             22
  '  blocks: Block[];', //                                               23
  '  head: nn.Linear;', //                                               24
  '', //                                                                 25
  '  constructor(hidden = 512, layers = 8) {', //                        26
  '    super();', //                                                     27
  '    this.blocks = Array.from({ length: layers }, () => new Block(hidden));', // 28
  '    this.head = new nn.Linear(hidden, 1000);', //                     29
  '  }', //                                                              30
  '', //                                                                 31
  '  forward(x: nn.Tensor): nn.Tensor {', //                             32
  '    for (const block of this.blocks) x = block.forward(x);', //       33
  '    return this.head.forward(x);', //                                 34
  '  }', //                                                              35
  '}', //                                                                36
  '', //                                                                 37
  'export const tinyTrain = nn.entry({', //                              38
  "  description: 'eight blocks, one training step',", //                39
  '  model: () => new Net(),', //                                        40
  '  inputs: () => ({', //                                               41
  "    x: nn.input(['batch', 'sequence', 512], 'float32'),", //          42
  "    labels: nn.input(['batch', 'sequence'], 'int64', { range: [0, 1000] }),", // 43
  '  }),', //                                                            44
  '  forward: (m, { x, labels }) => ({ loss: nn.crossEntropy(m.forward(x), labels) }),', // 45
  '});', //                                                              46
  '',
].join('\n');

const SETTINGS = withDefaults({ mode: 'train', batch: 8, seq: 512 });

/** x[8,512] -> MatMul W1[512,2048] -> Relu -> MatMul W2[2048,512] -> y: 8 MiB of fp32 weights. */
function mlp() {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [8, 512]);
  const h = b.one('MatMul', [x, b.weight('W1', [512, 2048])], { name: 'fc1' });
  const r = b.one('Relu', [h], { name: 'relu' });
  b.one('MatMul', [r, b.weight('W2', [2048, 512])], { name: 'fc2', outputs: ['y'] });
  b.output('y', 'float32', [8, 512]);
  return b.model();
}
const BUDGET = '1GiB';

function engineApi(): EngineApi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- typed as the loader types it
  return require('../../extension/presentation/editor-api') as EngineApi;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let vsix: string;
before(async () => {
  vsix = await ensureVsix();
}, { timeout: 600_000 });

describe('memory-saving rewrites as code actions', { timeout: 900_000 }, () => {
  let workspace: string;
  let file: string;
  let session: Session | undefined;
  let basePeak: number;
  let checkpointPeak: number;
  let checkpointTitle: RegExp;
  let rewritten: string;

  before(async () => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-actions-ws-'));
    file = path.join(workspace, MODEL);
    fs.writeFileSync(file, MODEL_TS);
    fs.writeFileSync(path.join(workspace, 'mlp.onnx'), encodeModel(mlp()));
    // What the extension should offer: the same engine on the same file and settings.
    const api = engineApi();
    const set = await api.suggestForFile({ file, settings: SETTINGS, trusted: true, timeoutMs: 120_000, files: [] });
    basePeak = set.peakBytes;
    const loop = set.items.find((i) => i.suggestion.kind === 'checkpoint-loop');
    assert.ok(loop?.suggestion.reanalysed, 'the engine suggests checkpointing the layer loop');
    checkpointPeak = loop.suggestion.reanalysed.peakBytes;
    checkpointTitle = new RegExp(`^${escape(`Checkpoint every layer of blocks (8 layers): peak ${peakChange(basePeak, checkpointPeak)}, +`)}\\d+% forward compute`);
    const rewriter = await api.sourceRewriter('typescript');
    const placed = await rewriter.place(loop.suggestion, file, MODEL_TS, file);
    assert.ok(placed, 'the layer loop has a place in the file');
    rewritten = applyEdits(MODEL_TS, (await rewriter.edits(loop.suggestion, placed.site, file, MODEL_TS)).map((e) => ({ ...e, file })));
    session = await startSession({
      name: 'code-actions',
      workspace,
      extensions: [vsix],
      settings: { 'memlens.mode': 'train', 'memlens.batch': 8, 'memlens.sequenceLength': 512, 'memlens.budget': BUDGET, 'files.autoSave': 'off' },
    });
  });

  after(async () => {
    await session?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  const statusPeak = (bytes: number) => new RegExp(`MemLens ${escape(formatBytes(bytes))} / 1\\.0 GiB`);

  /**
   * Opens the code action menu (Ctrl+.) on `line` and returns the texts of its rows. The first ask
   * after a profile may come before the suggestions are ready: the menu is opened again until it
   * lists them.
   */
  const openActions = (line: number) => openActionMenu(session!.workbench, line, /Checkpoint every layer/);
  const focusAction = (label: string) => focusActionRow(session!.workbench, label);

  test('the checkpoint quick fix on the layer loop rewrites it, and the profile shows the lower peak', { timeout: 300_000 }, async () => {
    const { workbench } = session!;
    assert.ok(basePeak > 2 ** 30, 'the model is over the 1 GiB budget');
    await workbench.openFile(MODEL);
    await workbench.waitForStatusBarItem(statusPeak(basePeak), 'the status bar peak of the model', 180_000);
    const { profile: baseProfile } = await engineApi().profileFile({ file, settings: SETTINGS, trusted: true, timeoutMs: 120_000 });
    const beforeText = lineDecorations(baseProfile, file, 'compact').find((d) => d.line === 17)!.text;
    await waitUntil('the figure on the block line', 30_000, async () => (await inlineFigures(workbench.page)).some((f) => f.text === MODEL_TS.split('\n')[16] && f.figure === beforeText));
    const rows = await openActions(LOOP_LINE);
    const title = rows.find((r) => /Checkpoint every layer/.test(r))!;
    assert.match(title, checkpointTitle);
    assert.ok(rows.some((r) => /^Offload the saved activations of blocks to CPU memory: peak /.test(r)), rows.join(' | '));
    await workbench.screenshot('code-actions-menu');
    await focusAction('Checkpoint every layer');
    await workbench.page.keyboard.press('Enter');
    // Applied, saved and profiled again.
    await waitUntil('the rewritten file on disk', 60_000, () => fs.readFileSync(file, 'utf8') === rewritten);
    assert.equal(fs.readFileSync(file, 'utf8').split('\n')[LOOP_LINE - 1], '    for (const block of this.blocks) x = nn.checkpoint(() => block.forward(x));');
    await workbench.waitForStatusBarItem(statusPeak(checkpointPeak), 'the status bar peak after the rewrite', 180_000);
    // The figures on the block's lines are the rewritten file's: its activations are no longer kept.
    const { profile } = await engineApi().profileFile({ file, settings: SETTINGS, trusted: true, timeoutMs: 120_000 });
    assert.equal(profile.peak.bytes, checkpointPeak, 'the re-profiled peak is the one the action title promised');
    const blockLine = MODEL_TS.split('\n')[16];
    const expected = lineDecorations(profile, file, 'compact').find((d) => d.line === 17)!.text;
    await waitUntil('the new figure on the block line', 30_000, async () => (await inlineFigures(workbench.page)).some((f) => f.text === blockLine && f.figure === expected));
    await workbench.screenshot('code-actions-applied');
  });

  test('the timeline draws the profile from before the fix beside the new one, with both peaks where it was applied', { timeout: 180_000 }, async () => {
    const { workbench } = session!;
    await workbench.runCommand('MemLens: Show Memory Timeline');
    const frame = await webviewFrame(workbench.page, '#fix-compare', 'the fix comparison in the timeline', 90_000);
    const banner = (await frame.textContent('#fix-compare')) ?? '';
    // Both figures come from their own profiles: the engine's before (basePeak) and after (checkpointPeak).
    assert.match(banner, new RegExp(`^Applied Checkpoint every layer of blocks.* at ${escape(`${MODEL}:${LOOP_LINE}`)}: peak ${escape(`${formatBytes(basePeak)} → ${formatBytes(checkpointPeak)}`)}`));
    const legend = await frame.locator('.legend-item').allTextContents();
    assert.ok(legend.some((l) => l.startsWith(`before: Checkpoint every layer`) && l.includes(`(peak ${formatBytes(basePeak)})`)), legend.join(' | '));
    // The "before → after" figure is drawn on the chart, clear of the peak's label and marker.
    const data = await frame.$eval('canvas#timeline', (el) => ({ ...(el as unknown as { dataset: Record<string, string> }).dataset }));
    const box = (s: string) => {
      const [x, y, w, h] = s.split(',').map(Number);
      return { x, y, w, h };
    };
    assert.ok(data.fixLabel, 'the fix figure is drawn');
    const fix = box(data.fixLabel);
    const marker = await peakMarker(frame);
    const apart = (a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }) => a.x >= b.x + b.w || b.x >= a.x + a.w || a.y >= b.y + b.h || b.y >= a.y + a.h;
    assert.ok(apart(fix, box(data.peakLabel)), `fix label ${data.fixLabel} clear of the peak label ${data.peakLabel}`);
    assert.ok(apart(fix, { x: marker.x - 6, y: marker.y - 6, w: 12, h: 12 }), 'fix label clear of the peak marker');
    await workbench.screenshot('timeline-after-fix');
  });

  test('Undo gives back the original text byte for byte', { timeout: 180_000 }, async () => {
    const { workbench } = session!;
    await workbench.goToLine(LOOP_LINE);
    await workbench.page.keyboard.press('Control+Z');
    await waitUntil('the loop line back as it was', 30_000, async () => (await workbench.visibleEditorLines()).includes('    for (const block of this.blocks) x = block.forward(x);'));
    await workbench.page.keyboard.press('Control+S');
    await waitUntil('the original bytes on disk', 30_000, () => fs.readFileSync(file).equals(Buffer.from(MODEL_TS)));
    await workbench.waitForStatusBarItem(statusPeak(basePeak), 'the status bar peak back at the original', 180_000);
    await workbench.screenshot('code-actions-undone');
  });

  test('a file with unsaved changes is refused: the actions are disabled, nothing is written', { timeout: 180_000 }, async () => {
    const { workbench } = session!;
    await workbench.goToLine(3);
    await workbench.page.keyboard.type('// unsaved');
    await waitUntil('the unsaved edit in the editor', 15_000, async () => (await workbench.visibleEditorLines()).includes('// unsaved'));
    await workbench.goToLine(LOOP_LINE);
    // Disabled actions stay out of the quick fix menu; the Refactor menu (Ctrl+Shift+R) lists them under "Show Disabled".
    const row = await waitUntil('the disabled checkpoint action', 120_000, async () => {
      await workbench.page.keyboard.press('Control+Shift+R');
      await workbench.waitForSelector('.action-widget', { what: 'the refactor menu', timeoutMs: 10_000 }).catch(() => undefined);
      const show = workbench.page.locator('.action-widget .action-label', { hasText: 'Show Disabled' });
      if ((await show.count()) > 0) await show.first().dispatchEvent('click');
      const found = workbench.page.locator('.action-widget .monaco-list-row.option-disabled', { hasText: 'Checkpoint every layer' });
      const seen = await found.first().waitFor({ state: 'attached', timeout: 3_000 }).then(() => true, () => false);
      if (!seen) await workbench.page.keyboard.press('Escape');
      return seen ? found.first() : undefined;
    }, 1_000);
        await workbench.screenshot('code-actions-dirty-refused');
    // A disabled action cannot be chosen: a click on it leaves everything as it was.
    await row.dispatchEvent('click');
    await workbench.page.keyboard.press('Escape');
    await sleep(2_000);
    assert.ok(fs.readFileSync(file).equals(Buffer.from(MODEL_TS)), 'the file on disk is untouched');
    const lines = await workbench.visibleEditorLines();
    assert.ok(lines.includes('    for (const block of this.blocks) x = block.forward(x);'), 'the loop is not rewritten');
    // Put the editor back as the file is.
    await workbench.runCommand('File: Revert File');
    await workbench.waitForSelector('.tab.active:not(.dirty)[data-resource-name="tiny_train.ts"]', { what: 'the reverted editor' });
    assert.ok(!(await workbench.visibleEditorLines()).includes('// unsaved'));
  });

  test('Fit to Budget shows the plan and its frontier, and applies the plan after the preview', { timeout: 300_000 }, async () => {
    const { workbench } = session!;
    const loaded = await loadModel(file, { settings: SETTINGS, trusted: true, timeoutMs: 120_000 });
    const plan = fitBudget(loaded.model, SETTINGS, 2 ** 30, { source: file, target: 'typescript' });
    assert.equal(plan.fits, true);
    const expected = (await (await engineApi().sourceRewriter('typescript')).applyPlan(plan, file, MODEL_TS, file)).text;
    await workbench.waitForStatusBarItem(statusPeak(basePeak), 'the status bar peak', 180_000);
    await workbench.runCommand('MemLens: Fit to Budget…');
    const input = '.quick-input-widget .quick-input-box input';
    await workbench.waitForSelector(input, { what: 'the budget input' });
    assert.equal(await workbench.page.inputValue(input), '1.0GiB');
    await workbench.page.keyboard.press('Enter');
    const rows = await waitUntil('the plans', 120_000, async () => {
      const r = await workbench.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').allTextContents();
      return r.some((t) => /Plan: checkpoint/.test(t)) ? r : undefined;
    }, 500);
    assert.match(rows[0], new RegExp(escape(`Plan: checkpoint ${plan.chosen.checkpointed.length} layers`)));
    assert.match(rows[0], new RegExp(escape(`peak ${peakChange(basePeak, plan.chosen.verifiedPeakBytes)}`)));
    assert.ok(rows.some((r) => /^\s*\d+(\.\d)? [KMG]iB · \+\d+% recompute/.test(r)), rows.join(' | '));
    await workbench.screenshot('fit-budget-plans');
    await workbench.page.keyboard.press('Enter');
    // Apply at once, or look at the edits first: the preview.
    const dialog = '.monaco-dialog-box';
    await workbench.waitForSelector(dialog, { what: 'the apply dialog' });
    assert.match((await workbench.textOf(dialog)) ?? '', new RegExp(escape(`peak ${formatBytes(basePeak)} → ${formatBytes(plan.chosen.verifiedPeakBytes)}`)));
    await workbench.screenshot('fit-budget-confirm');
    await workbench.page.locator(`${dialog} .monaco-button`, { hasText: 'Preview…' }).click();
    // The preview is a diff of the file and the file with the plan; nothing is written until Apply.
    await workbench.waitForSelector('.tab[aria-label*="↔"]', { what: 'the diff of the plan' });
    await workbench.waitForText('.editor-group-container.active .monaco-diff-editor .modified .view-lines', /nn\.checkpoint\(this\.blocks\[i\]\)/, 'the plan edit in the diff');
    await workbench.waitForSelector(dialog, { what: 'the apply-after-preview dialog' });
    assert.ok(fs.readFileSync(file).equals(Buffer.from(MODEL_TS)), 'nothing written before Apply');
    await workbench.screenshot('fit-budget-preview');
    await workbench.page.locator(`${dialog} .monaco-button`, { hasText: 'Apply' }).first().click();
    await waitUntil('the plan written to disk', 60_000, () => fs.readFileSync(file, 'utf8') === expected);
    await workbench.waitForNotification(/MemLens: applied checkpoint \d+ layers to tiny_train\.ts .*Undo takes it back/, 'the message saying what was applied');
    await workbench.waitForStatusBarItem(statusPeak(plan.chosen.verifiedPeakBytes), 'the status bar peak after the plan', 180_000);
    await workbench.screenshot('fit-budget-applied');
  });
  test('Write Quantized Copy writes a NEW .onnx file with the chosen format and opens it; the model stays as it was', { timeout: 240_000 }, async () => {
    const { workbench } = session!;
    const input = path.join(workspace, 'mlp.onnx');
    const original = fs.readFileSync(input);
    // Quantized copies are weighed for inference (the session's batch and sequence length).
    const infer = { ...SETTINGS, mode: 'infer' as const };
    const set = await engineApi().suggestForFile({ file: input, settings: infer, trusted: true, timeoutMs: 120_000, files: [] });
    const best = set.items.find((i) => i.suggestion.kind === 'quantize-weights' && (i.suggestion.reanalysed?.savingBytes ?? 0) > 0);
    assert.ok(best?.suggestion.reanalysed && best.suggestion.detail.kind === 'quantize');
    await openCustomEditorFile(workbench.page, 'mlp.onnx');
    await webviewFrame(workbench.page, 'canvas#timeline[data-peak-x]', 'the summary of mlp.onnx', 90_000);
    // The summary is a webview that keeps the keyboard: give it back to the workbench via the tab.
    await workbench.page.locator('.tab.active[data-resource-name="mlp.onnx"]').click();
    await workbench.runCommand('MemLens: Write Quantized Copy…');
    const rows = await waitUntil('the quantized formats', 120_000, async () => {
      const r = await workbench.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').allTextContents();
      return r.some((x) => /^Quantize the weights/.test(x)) ? r : undefined;
    }, 500);
    assert.match(rows[0], new RegExp(`^${escape(`${best.suggestion.action}: peak ${peakChange(set.peakBytes, best.suggestion.reanalysed.peakBytes)}, `)}`));
    await workbench.screenshot('quantized-copy-formats');
    await workbench.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').first().click();
    // code-server's save dialog is a quick input holding the proposed path.
    const input2 = '.quick-input-widget .quick-input-box input';
    await workbench.waitForSelector(input2, { what: 'the save dialog' });
    const output = path.join(workspace, `mlp.${best.suggestion.detail.format}.onnx`);
    await waitUntil(`the proposed name ${output}`, 15_000, async () => (await workbench.page.inputValue(input2)) === output);
    await workbench.page.keyboard.press('Enter');
    await waitUntil('the quantized copy on disk', 60_000, () => fs.existsSync(output) && fs.statSync(output).size > 0);
    await workbench.waitForSelector(`.tab.active[data-resource-name="${path.basename(output)}"]`, { what: 'the copy opened in its summary', timeoutMs: 60_000 });
    const written = decodeModel(fs.readFileSync(output), output);
    assert.equal(analyzeModel(written, infer, { source: output, entry: null }).peak.bytes, best.suggestion.reanalysed.peakBytes);
    assert.ok(fs.readFileSync(input).equals(original), 'mlp.onnx is unchanged');
    // The copy's memory summary draws its timeline.
    await waitUntil('the timeline of the copy', 90_000, async () => {
      for (const f of workbench.page.frames()) {
        const drawn = await f.$('canvas#timeline[data-peak-x]').catch(() => null);
        const text = drawn ? await f.textContent('body').catch(() => null) : null;
        if (text?.includes(path.basename(output))) return true;
      }
      return undefined;
    }, 500);
    await workbench.screenshot('quantized-copy-opened');
  });
});

describe('PyTorch rewrites as code actions', { timeout: 900_000 }, () => {
  let workspace: string;
  let file: string;
  let session: Session | undefined;
  let original: string;
  let basePeak: number;
  let loopPeak: number;
  // At batch 8 the training peak is in the backward, where checkpointing the layer loop lowers it
  // (at the script's own batch of 2 it is the AdamW update).
  let settings = withDefaults({ mode: 'train', batch: 8 });
  const python = { trusted: true, timeoutMs: 180_000, pythonPath: '/usr/bin/python3' };

  before(async () => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-actions-py-'));
    file = path.join(workspace, 'gpt_decoder.py');
    fs.copyFileSync(path.join(repoRoot, 'samples', 'python', 'gpt_decoder.py'), file);
    original = fs.readFileSync(file, 'utf8');
    // As the editor does: the profile takes the batch setting written for the workspace, and the
    // suggestions are computed at the profile's settings.
    const opened = await engineApi().profileFile({ ...python, file, settings, given: { batch: true, seq: false, optimizer: false, mode: true } });
    settings = opened.profile.settings;
    const set = await engineApi().suggestForFile({ ...python, file, settings, files: [] });
    assert.equal(set.peakBytes, opened.profile.peak.bytes);
    basePeak = set.peakBytes;
    const loop = set.items.find((i) => i.suggestion.kind === 'checkpoint-loop');
    assert.ok(loop?.suggestion.reanalysed);
    loopPeak = loop.suggestion.reanalysed.peakBytes;
    session = await startSession({
      name: 'code-actions-python',
      workspace,
      extensions: [vsix],
      settings: { 'memlens.mode': 'train', 'memlens.batch': 8, 'memlens.pythonPath': '/usr/bin/python3', 'files.autoSave': 'off' },
    });
  });

  after(async () => {
    await session?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  test('checkpointing the layer loop with torch.utils.checkpoint: the file is rewritten, exported again, and Undo restores it', { timeout: 400_000 }, async () => {
    const { workbench } = session!;
    const loopLine = original.split('\n').findIndex((l) => l.trim() === 'for block in self.blocks:') + 1;
    assert.equal(loopLine, 82);
    await workbench.openFile('gpt_decoder.py');
    await workbench.waitForStatusBarItem(new RegExp(`MemLens ${escape(formatBytes(basePeak))}`), 'the status bar peak of the model', 240_000);
    const rows = await openActionMenu(workbench, loopLine, /^Checkpoint the layer loop over self\.blocks/);
    const title = rows.find((r) => /^Checkpoint the layer loop over self\.blocks/.test(r))!;
    assert.match(title, new RegExp(`^${escape(`Checkpoint the layer loop over self.blocks (torch.utils.checkpoint): peak ${peakChange(basePeak, loopPeak)}, +`)}\\d+% forward compute`));
    await workbench.screenshot('python-actions-menu');
    await focusActionRow(workbench, 'Checkpoint the layer loop over self.blocks');
    await workbench.page.keyboard.press('Enter');
    await waitUntil('the rewritten loop on disk', 60_000, () => fs.readFileSync(file, 'utf8').includes('x = torch.utils.checkpoint.checkpoint(block, x, use_reentrant=False)'));
    const rewritten = fs.readFileSync(file, 'utf8');
    assert.match(rewritten, /\nimport torch\.utils\.checkpoint\n/);
    const { profile } = await engineApi().profileFile({ ...python, file, settings });
    assert.ok(profile.peak.bytes < basePeak, `exported again: ${profile.peak.bytes} B, before ${basePeak} B`);
    await workbench.waitForStatusBarItem(new RegExp(`MemLens ${escape(formatBytes(profile.peak.bytes))}`), 'the status bar peak after the rewrite', 240_000);
    await workbench.screenshot('python-actions-applied');
    await workbench.goToLine(loopLine);
    await workbench.page.keyboard.press('Control+Z');
    await workbench.page.keyboard.press('Control+S');
    await waitUntil('the original bytes on disk', 30_000, () => fs.readFileSync(file).equals(Buffer.from(original)));
  });
});
