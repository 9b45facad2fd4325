// The byte axis: ticks at multiples of a power of two (64, 128, 192, 256 MiB; never 95.4 or
// 190.7), labelled in binary units, from zero or fitted to the curve. Pure, so unit tests run it.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** At most this many intervals between ticks; the step doubles until they fit. */
export const MAX_INTERVALS = 8;

/** The curve is drawn fitted (axis not from zero) when its lowest point is above this share of its highest. */
export const FIT_THRESHOLD = 0.5;

export interface ByteAxis {
  min: number;
  max: number;
  /** Bytes between ticks: a power of two. */
  step: number;
  ticks: number[];
  /** Whether the axis starts above zero (fitted to the curve). */
  fitted: boolean;
}

/** The smallest power of two (at least 1 byte) that is >= `bytes`. */
export function powerOfTwoAtLeast(bytes: number): number {
  if (!(bytes > 1)) return 1;
  return 2 ** Math.ceil(Math.log2(bytes) - 1e-12);
}

/** A fitted axis spans at least this share of its top, so a flat curve is not magnified into noise. */
export const MIN_FITTED_SPAN = 1 / 16;
/** The constant band at the bottom of a fitted axis (the weights) keeps at least this share of the span. */
export const BASE_BAND = 0.15;

/**
 * An axis over [low, high]. From zero unless `fit` is asked and low > FIT_THRESHOLD * high. A
 * fitted axis starts low enough to show `base` (the constant bottom of the stack, such as the
 * weights) as a band, at a tick. The step is the smallest power of two that keeps at most
 * MAX_INTERVALS intervals.
 */
export function byteAxis(low: number, high: number, fit: boolean, base = 0): ByteAxis {
  const top = Math.max(high, 0);
  const fitted = fit && low > FIT_THRESHOLD * top && top > 0;
  let bottom = 0;
  if (fitted) {
    const floor = base > 0 && base <= low ? base - BASE_BAND * (top - base) : low;
    bottom = Math.max(0, Math.min(low, floor, top * (1 - MIN_FITTED_SPAN)));
  }
  let step = powerOfTwoAtLeast((top - bottom) / MAX_INTERVALS);
  for (;;) {
    const min = fitted ? Math.floor(bottom / step) * step : 0;
    const max = Math.max(min + step, Math.ceil(top / step) * step);
    if ((max - min) / step <= MAX_INTERVALS) {
      const ticks: number[] = [];
      for (let v = min; v <= max; v += step) ticks.push(v);
      return { min, max, step, ticks, fitted: fitted && min > 0 };
    }
    step *= 2;
  }
}

/**
 * The unit ticks are written in: the largest binary unit not above the axis maximum, or a smaller
 * one when the step is not a whole eighth of it (16 KiB steps near 1 MiB read 976 KiB, 992 KiB,
 * not 0.953 MiB), so every label is exact in at most three decimals.
 */
export function axisUnit(max: number, step = max): number {
  let i = 0;
  while (i < UNITS.length - 1 && max >= 1024 ** (i + 1)) i++;
  while (i > 0 && !Number.isInteger((step / 1024 ** i) * 8)) i--;
  return i;
}

/** `0 B`, `64 MiB`, `1.5 MiB`, `0.125 GiB`, `976 KiB`: exact for power-of-two steps, no trailing zeros. */
export function tickLabel(value: number, max: number, step = max): string {
  if (value === 0) return '0 B';
  const unit = axisUnit(max, step);
  const v = value / 1024 ** unit;
  return `${Number(v.toFixed(3))} ${UNITS[unit]}`;
}

/** Whether every tick is a whole multiple of the step, and the step a power of two. */
export function isBinaryAxis(axis: Pick<ByteAxis, 'step' | 'ticks'>): boolean {
  return Number.isInteger(Math.log2(axis.step)) && axis.ticks.every((t) => Number.isInteger(t / axis.step));
}
