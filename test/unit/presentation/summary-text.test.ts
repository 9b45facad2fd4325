import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lineHoverMarkdown, lineMeasurement } from '../../../extension/presentation/hover';
import { modelKind } from '../../../extension/analysis/model-kind';
import { looksLikeModel } from '../../../extension/presentation/model-document';
import { readSettings } from '../../../extension/presentation/settings';
import { lensTitle, statusText } from '../../../extension/presentation/summary-text';
import { mlpProfile, ortRun } from './fixtures';
import { emptyByCategory } from '../../../extension/engine/profile';

test('lens title: peak, mode, batch, seq where the model has one (and dtype when not fp32)', () => {
  // The MLP's input has the fixed shape [2, 4]: neither the batch nor the seq setting sized it.
  assert.equal(lensTitle(mlpProfile()), 'Peak 344 B · inference');
  // 1080 B = 1.05 KiB
  assert.equal(lensTitle(mlpProfile({ mode: 'train', batch: 8, seq: 2048 })), 'Peak 1.1 KiB · training');
  assert.match(lensTitle(mlpProfile({ mode: 'train', dtype: 'bf16' })), / · training · bf16$/);
  const p = mlpProfile();
  assert.equal(lensTitle({ ...p, settings: { ...p.settings, sized: { batch: true, seq: true } } }), 'Peak 344 B · inference · batch 1 · seq 128');
});

test('status bar: peak against the budget', () => {
  assert.equal(statusText(mlpProfile(), null).text, 'MemLens 344 B');
  const over = statusText(mlpProfile(), { bytes: 300, label: '300 B', source: 'setting' });
  assert.equal(over.text, 'MemLens 344 B / 300 B');
  assert.equal(over.overBudget, true);
  assert.match(over.tooltip, /Budget 300 B: over by 44 B/);
  assert.equal(statusText(mlpProfile(), { bytes: 344, label: '344 B', source: 'setting' }).overBudget, false);
});

test('hover: figures, per op, and the measurement of the line nodes', () => {
  const p = mlpProfile({ mode: 'train' });
  const relu = p.lines.find((l) => l.line === 11)!;
  const md = lineHoverMarkdown(p, relu);
  assert.match(md, /\| saved for backward \| 64 B \|/);
  assert.match(md, /\| Relu \| 64 B \|/);
  assert.doesNotMatch(md, /measured/);
  p.measured = ortRun({ peakBytes: 0, arenaHeldBytes: 0, perNode: [
    { node: 'relu', op: 'Relu', durationUs: 1500, outputBytes: 64, inUseBytes: 96, source: null },
  ] });
  assert.deepEqual(lineMeasurement(p, relu), { ep: 'cpu', nodes: 1, outputBytes: 64, durationUs: 1500, maxInUseBytes: 96 });
  assert.match(lineHoverMarkdown(p, relu), /\| time \| 1\.50 ms \|/);
  const fc1 = p.lines.find((l) => l.line === 10)!;
  assert.match(lineHoverMarkdown(p, fc1), /reported none of this line's nodes/);
});

test('settings: defaults, values, and one problem per bad value', () => {
  const d = readSettings({});
  assert.deepEqual(d.analysis, { mode: 'infer', batch: 1, seq: 128, dtype: 'fp32', optimizer: 'adamw', dims: {}, device: 'cuda', step: 'steady', zeroGrad: 'set-to-none' });
  assert.equal(d.timeoutMs, 120_000);
  assert.equal(d.inlineDetail, 'compact');
  const s = readSettings({ mode: 'train', batch: 8, sequenceLength: 2048, dtype: 'bf16', timeoutSeconds: 30, inlineDetail: 'full' });
  assert.deepEqual([s.analysis.mode, s.analysis.batch, s.analysis.seq, s.analysis.dtype, s.timeoutMs, s.inlineDetail], ['train', 8, 2048, 'bf16', 30_000, 'full']);
  const bad = readSettings({ mode: 'eval', batch: 0 });
  assert.equal(bad.analysis.mode, 'infer');
  assert.equal(bad.analysis.batch, 1);
  assert.deepEqual(bad.problems, ['memlens.mode: expected one of infer, train, got "eval"', 'memlens.batch: expected a whole number of at least 1, got 0']);
});

test('cheap model check before anything heavy loads', () => {
  assert.equal(modelKind('/a/model.ts'), 'typescript');
  assert.equal(modelKind('/a/types.d.ts'), null);
  assert.equal(modelKind('/a/m.ONNX'), 'onnx');
  assert.equal(modelKind('/a/m.mts'), 'typescript');
  assert.equal(modelKind('/a/m.d.mts'), null);
  assert.equal(modelKind('/a/m.py'), 'python');
  assert.equal(modelKind('/a/m.pyi'), null);
  assert.equal(looksLikeModel('typescript', "import { nn } from 'memlens/nn';\n"), true);
  assert.equal(looksLikeModel('typescript', "import * as fs from 'fs';\n"), false);
  assert.equal(looksLikeModel('python', 'import os\nimport torch.nn as nn\n'), true);
  assert.equal(looksLikeModel('python', 'from torch import nn\n'), true);
  assert.equal(looksLikeModel('python', '# torch is great\nimport numpy\n'), false);
});

test('hover: the figure at the peak by part, the optimizer step temporaries named on their weight\'s line', () => {
  const p = mlpProfile({ mode: 'train' });
  const fc1 = p.lines.find((l) => l.line === 10)!;
  const md = lineHoverMarkdown(p, fc1);
  // W1 is 4x8 fp32 = 128 B; the foreach AdamW update (PyTorch 2) holds one fp32 copy of it.
  assert.match(md, /\| · weights at the peak \| 128 B \|/);
  assert.match(md, /\| · optimizer step temporaries at the peak \| 128 B \|/);
  assert.doesNotMatch(md, /other at the peak/);
});

test('hover: a line that runs ×N gives per call and total; parts under the threshold are summed, not listed; the header says what sized it', () => {
  const p = mlpProfile();
  const fc1 = p.lines.find((l) => l.line === 10)!;
  const mlp = { ...fc1, repeats: 12, bytes: 12 * (3 << 20), perCallBytes: 3 << 20, peakBytes: (108 << 20) + 16, peakByCategory: { ...emptyByCategory(), weights: 108 << 20, other: 16 } };
  const big = { ...p, peak: { ...p.peak, bytes: 500 << 20 }, settings: { ...p.settings, sized: { batch: true, seq: true }, batch: 2, fromCode: ['batch' as const] } };
  const md = lineHoverMarkdown(big, mlp);
  assert.match(md, /\| produced per call \| 3\.0 MiB \|/);
  assert.match(md, /\| produced over the step \(×12\) \| 36\.0 MiB \|/);
  assert.match(md, /\| · weights at the peak \| 108\.0 MiB \|/);
  assert.doesNotMatch(md, /· other at the peak/);
  assert.match(md, /\| · smaller parts \(each under 512\.0 KiB\) \| 16 B \|/);
  assert.match(md, /^inference, batch 2 \(as in the code\), seq 128, fp32; peak 500\.0 MiB/m);
  // A threshold of 0 lists every part.
  assert.match(lineHoverMarkdown(big, mlp, { kind: 'bytes', bytes: 0 }), /\| · other at the peak \| 16 B \|/);
});

test('settings: the past length and the figure threshold, with one problem line per bad value', () => {
  const s = readSettings({ pastSequenceLength: 4095, hideFiguresBelow: '1MiB' });
  assert.equal(s.analysis.past, 4095);
  assert.deepEqual(s.hideBelow, { kind: 'bytes', bytes: 1 << 20 });
  const d = readSettings({});
  assert.equal(d.analysis.past, undefined);
  assert.deepEqual(d.hideBelow, { kind: 'share', share: 0.001 });
  const bad = readSettings({ pastSequenceLength: -1, hideFiguresBelow: '5' });
  assert.deepEqual(bad.problems, [
    'memlens.pastSequenceLength: expected a whole number of at least 0, got -1',
    "memlens.hideFiguresBelow: '5' has no unit; write a share of the peak (0.1%) or a size (1MiB)",
  ]);
});
