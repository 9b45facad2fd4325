import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inlineText, lineDecorations } from '../../../extension/presentation/line-figures';
import { formatShare } from '../../../extension/engine/units';
import { emptyByCategory } from '../../../extension/engine/profile';
import { HIGH_SHARE, MEDIUM_SHARE, shareLevel } from '../../../extension/presentation/share';
import { MLP_FILE, mlpProfile } from './fixtures';
import { parseThreshold } from '../../../extension/presentation/figure-threshold';

// Inference peak 344 B at fc2: fc1's line holds x 32 + W1 128 + h 64 = 224 B, fc2's line W2 96 + y 24 = 120 B.
test('inference: one figure per line, peak bytes and colour by share of the peak', () => {
  const d = lineDecorations(mlpProfile(), MLP_FILE, 'compact');
  assert.deepEqual(d.map((x) => [x.line, x.text, x.level]), [
    [10, '224 B at peak', 'high'],
    [11, 'makes 64 B', 'low'],
    [12, '120 B at peak', 'high'],
  ]);
  assert.equal(d[0].share, 224 / 344);
  assert.equal(d[2].share, 120 / 344);
});

test('full detail adds the share and what the line makes', () => {
  const d = lineDecorations(mlpProfile(), MLP_FILE, 'full');
  assert.equal(d[0].text, '224 B at peak (65%) · makes 64 B');
  // Nothing of the Relu line is live at the peak: the default threshold (0.1% of the peak) hides
  // that 0 B, and a threshold of 0 shows every figure.
  assert.equal(d[1].text, 'makes 64 B');
  const all = lineDecorations(mlpProfile(), MLP_FILE, 'full', parseThreshold('0', 'test'));
  assert.equal(all[1].text, '0 B at peak (0.0%) · makes 64 B');
});

test('a line that runs ×N shows per call and in total; figures under the threshold are left out', () => {
  const f = { file: MLP_FILE, line: 3, scope: 'h.*.mlp', bytes: 12 * (3 << 20), peakBytes: 108 << 20, peakByCategory: { ...emptyByCategory(), weights: 108 << 20 }, savedBytes: 16, kvBytes: 0, repeats: 12, perCallBytes: 3 << 20, ops: {}, nodes: [] };
  assert.equal(inlineText(f, 0.2, 'train', 'full'), '108.0 MiB at peak (20%) · 3.0 MiB per call ×12 = 36.0 MiB · saved 16 B');
  // 1 MiB threshold: the 16 B saved is not shown; a line with nothing above it shows nothing.
  assert.equal(inlineText(f, 0.2, 'train', 'full', 1 << 20), '108.0 MiB at peak (20%) · 3.0 MiB per call ×12 = 36.0 MiB');
  assert.equal(inlineText({ ...f, peakBytes: 128, bytes: 16 * 12, perCallBytes: 16 }, 0, 'train', 'compact', 1 << 20), '');
  // Compact, nothing live at the peak: what it makes, per call and in total.
  assert.equal(inlineText({ ...f, peakBytes: 0 }, 0, 'infer', 'compact'), '3.0 MiB per call ×12 = 36.0 MiB');
});

test('the threshold setting: a share of the peak, a size, or 0; anything else is one line', () => {
  assert.deepEqual(parseThreshold('0.1%', 'x'), { kind: 'share', share: 0.001 });
  assert.deepEqual(parseThreshold('1MiB', 'x'), { kind: 'bytes', bytes: 1 << 20 });
  assert.deepEqual(parseThreshold('0', 'x'), { kind: 'bytes', bytes: 0 });
  assert.throws(() => parseThreshold('2', '--hide-below'), /--hide-below: '2' has no unit/);
  assert.throws(() => parseThreshold('lots', '--hide-below'), /--hide-below: cannot read 'lots'/);
  assert.throws(() => parseThreshold('150%', '--hide-below'), /over 100%/);
});

test('training: the Relu line saves its 64 B output for backward', () => {
  const d = lineDecorations(mlpProfile({ mode: 'train' }), MLP_FILE, 'compact');
  assert.equal(d.find((x) => x.line === 11)?.text, 'makes 64 B · saved 64 B');
  // At the optimizer step peak (1080 B) fc1's line holds 544 B, and the update's temporary of its
  // weight W1 (foreach on PyTorch 2: one fp32 copy, 4x8 x 4 B = 128 B).
  assert.equal(d.find((x) => x.line === 10)?.text, `${544 + 128} B at peak`);
});

test('off shows nothing, and another file gets nothing', () => {
  assert.deepEqual(lineDecorations(mlpProfile(), MLP_FILE, 'off'), []);
  assert.deepEqual(lineDecorations(mlpProfile(), '/ws/other.ts', 'compact'), []);
  // The same file written differently still matches.
  assert.equal(lineDecorations(mlpProfile(), '/ws/./sub/../mlp.ts', 'compact').length, 3);
});

test('KV bytes and repeats join the compact text', () => {
  const f = { file: MLP_FILE, line: 3, scope: 'h.*.attn', bytes: 3 << 20, peakBytes: 2 << 20, peakByCategory: { ...emptyByCategory(), activations: 1 << 20, kvCache: 1 << 20 }, savedBytes: 0, kvBytes: 1 << 20, repeats: 12, perCallBytes: 1 << 18, ops: {}, nodes: [] };
  assert.equal(inlineText(f, 0.5, 'infer', 'compact'), '2.0 MiB at peak · KV 1.0 MiB · ×12');
});

test('share buckets and their text', () => {
  assert.equal(shareLevel(HIGH_SHARE), 'high');
  assert.equal(shareLevel(HIGH_SHARE - 1e-9), 'medium');
  assert.equal(shareLevel(MEDIUM_SHARE), 'medium');
  assert.equal(shareLevel(MEDIUM_SHARE - 1e-9), 'low');
  assert.equal(formatShare(0.0004), '<0.1%');
  assert.equal(formatShare(0.0512), '5.1%');
  assert.equal(formatShare(0.651), '65%');
});
