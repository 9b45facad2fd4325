// Which lines push the peak over the budget: the lines with the largest share of the peak,
// taken until together they cover the excess (peak - budget). These get diagnostics.
import type { LineFigures, Profile } from '../engine/profile';
import { formatBytes, formatShare } from '../engine/units';
import { sameFile } from '../../language/same-file';
import { shareOfPeak } from './share';

export const OVER_BUDGET_CODE = 'memlens.overBudget';

export interface OverBudgetLine {
  figures: LineFigures;
  /** Share of the peak, 0..1. */
  share: number;
  message: string;
}

export interface OverBudget {
  excessBytes: number;
  lines: OverBudgetLine[];
  /** Bytes of the excess that lines with a source location do not cover (scopes without lines). */
  uncoveredBytes: number;
}

export function overBudget(profile: Profile, budgetBytes: number | null): OverBudget | null {
  if (budgetBytes === null || profile.peak.bytes <= budgetBytes) return null;
  const excess = profile.peak.bytes - budgetBytes;
  const ranked = profile.lines
    .filter((f) => f.peakBytes > 0 && f.file !== null && f.line !== null)
    .sort((a, b) => b.peakBytes - a.peakBytes);
  const lines: OverBudgetLine[] = [];
  let covered = 0;
  for (const f of ranked) {
    if (covered >= excess) break;
    covered += f.peakBytes;
    const share = shareOfPeak(f.peakBytes, profile.peak.bytes);
    lines.push({
      figures: f,
      share,
      message:
        `${formatBytes(f.peakBytes)} live at the peak (${formatShare(share)} of ${formatBytes(profile.peak.bytes)}); ` +
        `the peak is ${formatBytes(excess)} over the ${formatBytes(budgetBytes)} budget`,
    });
  }
  return { excessBytes: excess, lines, uncoveredBytes: Math.max(0, excess - covered) };
}

/**
 * The over-budget lines of one file, one per line (the largest share first wins a line): what the
 * Problems panel shows for `file` from the one profile that describes it.
 */
export function overBudgetLinesOf(profile: Profile, file: string, budgetBytes: number | null): OverBudgetLine[] {
  const over = overBudget(profile, budgetBytes);
  if (!over) return [];
  const byLine = new Map<number, OverBudgetLine>();
  for (const l of over.lines) {
    if (!sameFile(l.figures.file!, file) || byLine.has(l.figures.line!)) continue;
    byLine.set(l.figures.line!, l);
  }
  return [...byLine.values()];
}
