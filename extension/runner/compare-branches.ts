// An If whose run took another branch than the one the estimate sized: said with the node and both
// branches, and a second estimate, re-analysed with the branch that ran pinned (settings'
// `branches`), beside the measured peak. The static estimate stays the headline bound, and its
// verdict is not touched: this is a figure of its own.
import type { EstimatedBranch, PinnedComparison, Profile, RanBranch } from '../engine/profile';
import { branchWord, type IfBranch } from '../engine/settings';
import { differencePercent, estimateVsMeasured } from '../engine/difference-wording';
import { idealForwardPeak } from './estimate-peak';
import { formatBytes } from '../engine/units';
import type { SessionFigures } from './types';

export type DivergedBranch = PinnedComparison['branches'][number];

/** The If nodes the run took another branch of than the estimate sized (one the estimate chose for). */
export function divergedBranches(estimate: Profile, ran: readonly RanBranch[]): DivergedBranch[] {
  const sized = new Map<string, EstimatedBranch>((estimate.branches ?? []).map((b) => [b.node, b]));
  return ran.flatMap((r) => {
    const s = sized.get(r.node);
    return s && s.taken !== r.ran ? [{ node: r.node, sized: s.taken, ran: r.ran }] : [];
  });
}

/** The settings' pins that size each diverged If by the branch its run took. */
export function ranPins(diverged: readonly DivergedBranch[]): Record<string, IfBranch> {
  const pins = Object.create(null) as Record<string, IfBranch>;
  for (const d of diverged) pins[d.node] = d.ran;
  return pins;
}

/**
 * The pinned estimate's arena peak: its simulation of ORT's plan and BFC arena when it has one,
 * else the ideal plan (live bytes less weights and caller-owned inputs), against the measured peak.
 */
export function pinnedComparison(pinned: Profile, s: SessionFigures, branches: DivergedBranch[], targetPct: number): PinnedComparison {
  const estimatedPeakBytes = s.peakSource !== 'rss-delta' && pinned.ortHeld
    ? pinned.ortHeld.arenaInUsePeakBytes
    : idealForwardPeak(pinned.timeline.filter((p) => p.phase === 'forward'), s.peakSource);
  const measuredPeakBytes = s.peakBytes;
  const differencePct = differencePercent(measuredPeakBytes, estimatedPeakBytes);
  return { branches, estimatedPeakBytes, measuredPeakBytes, differencePct, withinTarget: Math.abs(differencePct) <= targetPct };
}

/** One line per diverged If, then the pinned estimate's own line. */
export function pinnedLines(estimate: Profile, diverged: DivergedBranch[], pinned: PinnedComparison | null): string[] {
  const why = new Map((estimate.branches ?? []).map((b) => [b.node, b.why]));
  const out = diverged.map((d) => `If '${d.node}': the run took ${d.ran}, the estimate is sized by ${d.sized}${why.get(d.node) === 'larger' ? ' (the larger; its condition is not known statically)' : ''}`);
  if (pinned) {
    const flags = pinned.branches.map((b) => `--branch ${b.node}=${branchWord(b.ran)}`).join(' ');
    out.push(`  with the branch${pinned.branches.length > 1 ? 'es' : ''} the run took pinned (${flags}): estimated ${formatBytes(pinned.estimatedPeakBytes)}, ` +
      `measured ${formatBytes(pinned.measuredPeakBytes)}, ${estimateVsMeasured(pinned.differencePct)}; the estimate above stays the bound for either branch`);
  }
  return out;
}
