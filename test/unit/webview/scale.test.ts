// The byte axis: power-of-two ticks in binary units, fitted to the curve when it sits high above zero.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE_BAND, byteAxis, isBinaryAxis, MAX_INTERVALS, MIN_FITTED_SPAN, powerOfTwoAtLeast, tickLabel } from '../../../webview/timeline/scale';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

test('ticks are multiples of a power of two, never 95.4 or 190.7 MiB', () => {
  // 200 MB (decimal) is where a decimal axis draws 95.4 MiB and 190.7 MiB (100 MB and 200 MB).
  const axis = byteAxis(0, 200e6, false);
  assert.equal(axis.step, 32 * MiB);
  assert.deepEqual(axis.ticks.map((t) => tickLabel(t, axis.max)), ['0 B', '32 MiB', '64 MiB', '96 MiB', '128 MiB', '160 MiB', '192 MiB']);
  assert.equal(axis.max, 192 * MiB);
  assert.ok(axis.max >= 200e6);
  assert.ok(isBinaryAxis(axis));
});

test('the axis covers the data with at most MAX_INTERVALS intervals of the smallest step that fits', () => {
  for (const high of [1, 1000, 3 * MiB + 17, 250 * MiB, 10.3 * GiB, 3.8 * GiB, 80e9, 2 ** 50]) {
    const axis = byteAxis(0, high, false);
    assert.ok(axis.max >= high, `max ${axis.max} >= ${high}`);
    assert.ok(axis.ticks.length - 1 <= MAX_INTERVALS);
    assert.ok(isBinaryAxis(axis));
    // Half the step would not fit: the step is the smallest power of two that does.
    if (axis.step > 1) assert.ok(Math.ceil(high / (axis.step / 2)) > MAX_INTERVALS, `step ${axis.step} for ${high}`);
  }
  // 250 MiB: 64, 128 and 256 MiB are ticks.
  const labels = byteAxis(0, 250 * MiB, false).ticks.map((t) => tickLabel(t, 256 * MiB));
  for (const want of ['64 MiB', '128 MiB', '256 MiB']) assert.ok(labels.includes(want), labels.join(', '));
});

test('every tick label of every axis reads back as its exact value', () => {
  const factor: Record<string, number> = { B: 1, KiB: 1024, MiB: MiB, GiB: GiB, TiB: 2 ** 40, PiB: 2 ** 50 };
  for (let high = 3; high < 2 ** 52; high *= 1.37) {
    for (const low of [0, high * 0.9]) {
      const axis = byteAxis(low, high, true, low * 0.95);
      for (const t of axis.ticks) {
        const [num, unit] = tickLabel(t, axis.max, axis.step).split(' ');
        assert.equal(Number(num) * factor[unit], t, `${tickLabel(t, axis.max, axis.step)} for ${t} (step ${axis.step})`);
      }
    }
  }
});

test('labels are exact and short: fractions of the axis unit without trailing zeros', () => {
  assert.equal(tickLabel(0, GiB), '0 B');
  assert.equal(tickLabel(1.5 * MiB, 2 * MiB), '1.5 MiB');
  assert.equal(tickLabel(0.25 * GiB, GiB), '0.25 GiB');
  assert.equal(tickLabel(512 * 1024, 2 * MiB), '0.5 MiB');
  assert.equal(tickLabel(472 * MiB, 512 * MiB), '472 MiB');
  assert.equal(tickLabel(96, 128), '96 B');
  // A 16 KiB step near 1 MiB is written in KiB, so no label is rounded.
  assert.equal(tickLabel(976 * 1024, 1.016 * MiB, 16 * 1024), '976 KiB');
  assert.equal(tickLabel(1.5 * MiB, 2 * MiB, 512 * 1024), '1.5 MiB');
  assert.equal(tickLabel(0.75 * GiB, GiB, 256 * MiB), '0.75 GiB');
  assert.equal(tickLabel(0.125 * GiB, GiB, 128 * MiB), '0.125 GiB');
  assert.equal(tickLabel(7.625 * MiB, 8.125 * MiB, 128 * 1024), '7.625 MiB');
  assert.equal(tickLabel(7.6875 * MiB, 8.125 * MiB, 64 * 1024), '7872 KiB');
  assert.equal(powerOfTwoAtLeast(3 * MiB), 4 * MiB);
  assert.equal(powerOfTwoAtLeast(4 * MiB), 4 * MiB);
  assert.equal(powerOfTwoAtLeast(0.3), 1);
});

test('an inference curve high above zero gets a fitted axis that keeps the weights as a band', () => {
  // GPT-2 small at seq 128: 474.7 MiB of weights under a curve from 475.7 to 508.6 MiB.
  const weights = 474.7 * MiB, low = 475.7 * MiB, high = 508.6 * MiB;
  const axis = byteAxis(low, high, true, weights);
  assert.equal(axis.fitted, true);
  assert.ok(axis.min > 0 && axis.min <= weights - BASE_BAND * (high - weights) + 1);
  assert.ok(axis.max >= high);
  assert.ok(isBinaryAxis(axis));
  assert.ok(Number.isInteger(axis.min / axis.step));
  // The activations above the weights take most of the height: far more than from zero.
  const share = (a: { min: number; max: number }) => (high - weights) / (a.max - a.min);
  assert.ok(share(axis) > 0.5, `share ${share(axis)}`);
  assert.ok(share(byteAxis(low, high, false)) < 0.1);
});

test('no fit when the curve reaches down to half its top, or when fitting is off', () => {
  assert.equal(byteAxis(0.4 * GiB, GiB, true).fitted, false);
  assert.equal(byteAxis(0.4 * GiB, GiB, true).min, 0);
  assert.equal(byteAxis(0.9 * GiB, GiB, false).min, 0);
});

test('a flat curve is not magnified: a fitted axis spans at least 1/16 of its top', () => {
  const axis = byteAxis(100 * MiB, 100 * MiB, true);
  assert.ok(axis.max - axis.min >= 100 * MiB * MIN_FITTED_SPAN);
  assert.ok(axis.min < 100 * MiB && axis.max >= 100 * MiB);
  // An empty chart still has an axis.
  assert.deepEqual(byteAxis(0, 0, true).ticks, [0, 1]);
});

test('a smaller visible range gives a smaller axis (what hiding a dataset does)', () => {
  const all = byteAxis(0, 10.3 * GiB, false);
  const withoutWeights = byteAxis(0, 3.8 * GiB, false);
  assert.ok(withoutWeights.max < all.max);
  assert.ok(withoutWeights.max >= 3.8 * GiB && withoutWeights.max < 2 * 3.8 * GiB);
});
