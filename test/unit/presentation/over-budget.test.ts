import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemlensError } from '../../../extension/engine/errors';
import { parseGpuQuery, resolveBudget } from '../../../extension/presentation/budget';
import { overBudget, overBudgetLinesOf } from '../../../extension/presentation/over-budget';
import { mlpProfile } from './fixtures';

test('a budget at or above the peak flags nothing', () => {
  assert.equal(overBudget(mlpProfile(), 344), null);
  assert.equal(overBudget(mlpProfile(), null), null);
});

test('the lines with the largest share at the peak, until the excess is covered', () => {
  // Peak 344 B; budget 300 B: 44 B over, fc1's line alone (224 B) covers it.
  const one = overBudget(mlpProfile(), 300)!;
  assert.equal(one.excessBytes, 44);
  assert.deepEqual(one.lines.map((l) => l.figures.line), [10]);
  assert.equal(one.lines[0].message, '224 B live at the peak (65% of 344 B); the peak is 44 B over the 300 B budget');
  // Budget 100 B: 244 B over, fc1 (224) + fc2 (120) = 344 cover it; Relu's line holds nothing at the peak.
  const two = overBudget(mlpProfile(), 100)!;
  assert.deepEqual(two.lines.map((l) => l.figures.line), [10, 12]);
  assert.equal(two.uncoveredBytes, 0);
});

test('an excess larger than what the lines hold leaves the rest uncovered', () => {
  const p = mlpProfile();
  p.peak.bytes = 1000; // weights counted elsewhere than in lines, as in a model without source lines
  const o = overBudget(p, 100)!;
  assert.equal(o.excessBytes, 900);
  assert.equal(o.uncoveredBytes, 900 - 344);
});

test('budget setting: sizes, auto from the GPU, none, and a clear error', () => {
  assert.deepEqual(resolveBudget('24GiB', null), { bytes: 24 * 2 ** 30, label: '24.0 GiB', source: 'setting' });
  assert.equal(resolveBudget('', null), null);
  assert.equal(resolveBudget('auto', null), null);
  const gpu = { name: 'NVIDIA H100 80GB HBM3', totalBytes: 81559 * 2 ** 20 };
  assert.deepEqual(resolveBudget(' auto ', gpu), { bytes: 81559 * 2 ** 20, label: '79.6 GiB (NVIDIA H100 80GB HBM3)', source: 'gpu' });
  assert.throws(() => resolveBudget('lots', null), (e: unknown) => e instanceof MemlensError && /memlens\.budget: cannot read 'lots'/.test(e.message));
  assert.throws(() => resolveBudget('0GiB', null), MemlensError);
});

test('nvidia-smi output: the first GPU', () => {
  assert.deepEqual(parseGpuQuery('NVIDIA H100 80GB HBM3, 81559\nNVIDIA H100 80GB HBM3, 81559\n'), { name: 'NVIDIA H100 80GB HBM3', totalBytes: 81559 * 2 ** 20 });
  assert.equal(parseGpuQuery(''), null);
  assert.equal(parseGpuQuery('No devices were found'), null);
});

test('the Problems of one file: its own over-budget lines, one per line', () => {
  const p = mlpProfile();
  const file = p.lines.find((l) => l.line === 10)!.file!;
  // The same line twice (two entries of one profile naming it) gives one problem, the larger share.
  const doubled = { ...p, lines: [...p.lines, { ...p.lines.find((l) => l.line === 10)!, peakBytes: 1 }] };
  assert.deepEqual(overBudgetLinesOf(doubled, file, 100).map((l) => [l.figures.line, l.figures.peakBytes]), [[10, 224], [12, 120]]);
  assert.deepEqual(overBudgetLinesOf(p, '/elsewhere/other.ts', 100), []);
  assert.deepEqual(overBudgetLinesOf(p, file, null), []);
});
