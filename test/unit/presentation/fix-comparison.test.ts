// The profile from before a fix beside the new one: same settings only, both peaks from their
// own profiles, the figure placed at a step that runs the changed line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes } from '../../../extension/engine/units';
import { fixComparison, sameAnalysisSettings } from '../../../extension/presentation/fix-comparison';
import { panelState } from '../../../extension/presentation/timeline-state';
import { MLP_FILE, mlpProfile } from './fixtures';

test('a fix in training: the previous curve, both peaks and the step of the changed line', () => {
  const before = mlpProfile({ mode: 'train', batch: 8 });
  const after = mlpProfile({ mode: 'train', batch: 8 });
  // The "fix" here is any change of the profile; what is checked is how the two are put side by side.
  after.peak = { ...after.peak, bytes: before.peak.bytes - 256 };
  const c = fixComparison({ action: 'checkpoint fc1', file: MLP_FILE, line: 11, previous: before }, after, 1500)!;
  assert.equal(c.beforeLabel, formatBytes(before.peak.bytes));
  assert.equal(c.afterLabel, formatBytes(before.peak.bytes - 256));
  assert.deepEqual(c.points, before.timeline.map((p) => ({ index: p.index, bytes: p.liveBytes })));
  assert.equal(c.totalSteps, before.timeline.length);
  const step = after.timeline.find((p) => p.index === c.atStep)!;
  assert.deepEqual(step.source, { file: MLP_FILE, line: 11 });
  assert.deepEqual(c.at, { file: MLP_FILE, line: 11, label: 'mlp.ts:11' });
});

test('never compared across settings: a training profile is not read against an inference one', () => {
  const train = mlpProfile({ mode: 'train' });
  const infer = mlpProfile({ mode: 'infer' });
  assert.equal(sameAnalysisSettings(train.settings, infer.settings), false);
  assert.equal(fixComparison({ action: 'x', file: null, line: null, previous: infer }, train, 1500), null);
  assert.equal(fixComparison({ action: 'x', file: null, line: null, previous: mlpProfile({ batch: 2 }) }, infer, 1500), null);
  assert.equal(panelState(train, { documentUri: 'u', title: 't', budget: null, fix: { action: 'x', file: null, line: null, previous: infer } }).comparison, null);
});

test('a long previous timeline is downsampled, and a fix without a line is drawn at the peak', () => {
  const p = mlpProfile({ mode: 'train' });
  const c = fixComparison({ action: 'int8 weights', file: null, line: null, previous: p }, p, 3)!;
  assert.ok(c.points.length <= 3);
  assert.equal(c.atStep, null);
  assert.equal(c.at, null);
});
