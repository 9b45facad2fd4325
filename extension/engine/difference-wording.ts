// How a difference between an estimate and a measurement reads: always "estimate N% below/above
// measured", N relative to the MEASURED figure, so the sign cannot be read the other way round.

/** (measured - estimated) / measured, in percent; with nothing measured, 0 for an estimate of 0 and -100 otherwise. */
export function differencePercent(measuredBytes: number, estimatedBytes: number): number {
  if (measuredBytes > 0) return ((measuredBytes - estimatedBytes) / measuredBytes) * 100;
  return estimatedBytes === 0 ? 0 : -100;
}

/** `differencePct` is (measured - estimated) / measured, in percent: positive when the estimate is lower. */
export function estimateVsMeasured(differencePct: number): string {
  const n = Math.abs(differencePct);
  if (!Number.isFinite(n)) return 'no measured figure to compare with';
  if (n < 0.05) return 'estimate equal to measured';
  return `estimate ${n.toFixed(1)}% ${differencePct > 0 ? 'below' : 'above'} measured`;
}
