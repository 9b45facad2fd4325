// Source links and the downsampling of a curve for drawing, shared by the timeline and the
// previous curve of a fix.
import type { SourceRef } from '../engine/profile';
import type { SourceLink } from '../../webview/protocol';
import { sourceLabel } from './source-label';

export function link(source: SourceRef | null): SourceLink | null {
  return source ? { file: source.file, line: source.line, label: sourceLabel(source.file, source.line) } : null;
}

/**
 * Indices of the points to draw: all of them when there are at most `max`, else the largest
 * point of each of `max` equal buckets, plus the first, the last and `keep` (the peak).
 */
export function downsampleIndices(values: readonly number[], max: number, keep: number): number[] {
  const n = values.length;
  if (n <= max) return values.map((_, i) => i);
  const chosen = new Set<number>([0, n - 1]);
  if (keep >= 0 && keep < n) chosen.add(keep);
  const buckets = Math.max(1, max - chosen.size);
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * n) / buckets);
    const end = Math.floor(((b + 1) * n) / buckets);
    let best = start;
    for (let i = start + 1; i < end; i++) if (values[i] > values[best]) best = i;
    if (start < end) chosen.add(best);
  }
  return [...chosen].sort((a, b) => a - b);
}
