// A line's share of the peak, bucketed for colour: the buckets pick one of three themeable colours.

export type ShareLevel = 'low' | 'medium' | 'high';

/** At or above this share of the peak a line is drawn in the "high" colour. */
export const HIGH_SHARE = 0.1;
/** At or above this share (and below HIGH_SHARE) a line is drawn in the "medium" colour. */
export const MEDIUM_SHARE = 0.02;

export function shareOfPeak(bytes: number, peakBytes: number): number {
  return peakBytes > 0 ? bytes / peakBytes : 0;
}

export function shareLevel(share: number): ShareLevel {
  if (share >= HIGH_SHARE) return 'high';
  if (share >= MEDIUM_SHARE) return 'medium';
  return 'low';
}
