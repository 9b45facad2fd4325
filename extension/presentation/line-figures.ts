// Per-line inline figures for one file: what each line holds at the peak, saves for backward,
// writes to the KV cache, and how often it ran. Plain data; the editor adapter draws it.
import type { LineFigures, Profile } from '../engine/profile';
import { formatBytes, formatShare } from '../engine/units';
import { sameFile } from '../../language/same-file';
import { shareLevel, shareOfPeak, type ShareLevel } from './share';
import { DEFAULT_HIDE_BELOW, parseThreshold, shown, thresholdBytes, type FigureThreshold } from './figure-threshold';

const DEFAULT_THRESHOLD = parseThreshold(DEFAULT_HIDE_BELOW, 'memlens.hideFiguresBelow');

export const INLINE_DETAILS = ['off', 'compact', 'full'] as const;
export type InlineDetail = (typeof INLINE_DETAILS)[number];

export interface LineDecoration {
  /** 1-based line in the file. */
  line: number;
  text: string;
  level: ShareLevel;
  share: number;
  figures: LineFigures;
}

/**
 * The figures of `file`'s lines, one per line, in line order. Lines whose every figure is under
 * `hideBelow` (memlens.hideFiguresBelow, 0.1% of the peak unless set) are left out.
 */
export function lineDecorations(profile: Pick<Profile, 'peak' | 'settings' | 'lines'>, file: string, detail: InlineDetail, hideBelow: FigureThreshold = DEFAULT_THRESHOLD): LineDecoration[] {
  if (detail === 'off') return [];
  const min = thresholdBytes(hideBelow, profile.peak.bytes);
  const out: LineDecoration[] = [];
  for (const f of linesOfFile(profile, file)) {
    const text = inlineText(f, shareOfPeak(f.peakBytes, profile.peak.bytes), profile.settings.mode, detail, min);
    if (text === '') continue;
    const share = shareOfPeak(f.peakBytes, profile.peak.bytes);
    out.push({ line: f.line!, text, level: shareLevel(share), share, figures: f });
  }
  return out.sort((a, b) => a.line - b.line);
}

export function linesOfFile(profile: Pick<Profile, 'lines'>, file: string): LineFigures[] {
  return profile.lines.filter((f) => f.file !== null && f.line !== null && f.line > 0 && sameFile(f.file, file));
}

/** `1.1 MiB per call ×12 = 13.5 MiB` for a line that ran ×N, `makes 1.1 MiB` for one that ran once. */
export function madeText(f: LineFigures): string {
  return f.repeats > 1 ? `${formatBytes(f.perCallBytes)} per call ×${f.repeats} = ${formatBytes(f.bytes)}` : `makes ${formatBytes(f.bytes)}`;
}

/**
 * compact: `1.2 GiB at peak · saved 300 MiB · KV 64 MiB · ×12` (what the line makes, per call and
 * in total, when nothing of it is live at the peak); full adds the share of the peak and what the
 * line makes. A figure under `minBytes` is left out; '' when none is left.
 */
export function inlineText(f: LineFigures, share: number, mode: Profile['settings']['mode'], detail: Exclude<InlineDetail, 'off'>, minBytes = 0): string {
  const parts: string[] = [];
  // Full detail with no threshold shows even `0 B at peak`: every figure was asked for.
  const atPeak = shown(f.peakBytes, minBytes) || (detail === 'full' && minBytes === 0);
  if (atPeak) parts.push(detail === 'full' ? `${formatBytes(f.peakBytes)} at peak (${formatShare(share)})` : `${formatBytes(f.peakBytes)} at peak`);
  // A line whose tensors are all freed before the peak still shows what it makes.
  const made = shown(f.bytes, minBytes) && (detail === 'full' || !atPeak);
  if (made) parts.push(madeText(f));
  if (mode === 'train' && shown(f.savedBytes, minBytes)) parts.push(`saved ${formatBytes(f.savedBytes)}`);
  if (shown(f.kvBytes, minBytes)) parts.push(`KV ${formatBytes(f.kvBytes)}`);
  if (parts.length === 0) return '';
  if (f.repeats > 1 && !made) parts.push(`×${f.repeats}`);
  return parts.join(' · ');
}
