// The profile from before a fix, drawn beside the new one: its live-bytes curve, and the peak
// before and after ("10.3 → 3.8 GiB") at the line the fix changed. Only profiles made with the
// same settings are compared (a training step is never read against an inference pass).
import type { Profile } from '../engine/profile';
import { formatBytes } from '../engine/units';
import type { FixComparison } from '../../webview/protocol';
import { sameFile } from '../../language/same-file';
import { downsampleIndices, link } from './chart-points';

/** A fix that was applied to a model: what, where, and the profile from before it. */
export interface FixRecord {
  action: string;
  /** The file and line the fix changed (null line: the whole file, or a new file). */
  file: string | null;
  line: number | null;
  previous: Profile;
}

export function sameAnalysisSettings(a: Profile['settings'], b: Profile['settings']): boolean {
  const dims = (d: Record<string, number>) => JSON.stringify(Object.entries(d).sort(([x], [y]) => x.localeCompare(y)));
  return a.mode === b.mode && a.batch === b.batch && a.seq === b.seq && a.dtype === b.dtype && a.optimizer === b.optimizer && dims(a.dims) === dims(b.dims);
}

export function fixComparison(fix: FixRecord | null, profile: Profile, maxPoints: number): FixComparison | null {
  if (!fix || !sameAnalysisSettings(fix.previous.settings, profile.settings)) return null;
  const before = fix.previous.timeline;
  const keep = downsampleIndices(before.map((p) => p.liveBytes), maxPoints, -1);
  const at = fix.file !== null && fix.line !== null ? link({ file: fix.file, line: fix.line }) : null;
  const step = at ? profile.timeline.find((p) => p.source !== null && p.source.line === at.line && sameFile(p.source.file, at.file)) : undefined;
  return {
    action: fix.action,
    at,
    atStep: step ? step.index : null,
    beforePeakBytes: fix.previous.peak.bytes,
    beforeLabel: formatBytes(fix.previous.peak.bytes),
    afterLabel: formatBytes(profile.peak.bytes),
    points: keep.map((i) => ({ index: before[i].index, bytes: before[i].liveBytes })),
    totalSteps: before.length,
  };
}
