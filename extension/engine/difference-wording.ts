// How a difference between an estimate and a measurement reads: always "estimate N% below/above
// measured", N relative to the MEASURED figure, so the sign cannot be read the other way round.

/** `differencePct` is (measured - estimated) / measured, in percent: positive when the estimate is lower. */
export function estimateVsMeasured(differencePct: number): string {
  const n = Math.abs(differencePct);
  if (!Number.isFinite(n)) return 'no measured figure to compare with';
  if (n < 0.05) return 'estimate equal to measured';
  return `estimate ${n.toFixed(1)}% ${differencePct > 0 ? 'below' : 'above'} measured`;
}
