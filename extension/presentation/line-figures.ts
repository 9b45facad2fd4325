// Per-line inline figures for one file: what each line holds at the peak, saves for backward,
// writes to the KV cache, and how often it ran. Plain data; the editor adapter draws it.
import type { LineFigures, Profile } from '../engine/profile';
import { formatBytes, formatShare } from '../engine/units';
import { sameFile } from '../../language/same-file';
import { shareLevel, shareOfPeak, type ShareLevel } from './share';

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

/** The figures of `file`'s lines, one per line, in line order. Lines that hold and make nothing are left out. */
export function lineDecorations(profile: Profile, file: string, detail: InlineDetail): LineDecoration[] {
  if (detail === 'off') return [];
  const out: LineDecoration[] = [];
  for (const f of linesOfFile(profile, file)) {
    if (f.peakBytes === 0 && f.bytes === 0 && f.savedBytes === 0 && f.kvBytes === 0) continue;
    const share = shareOfPeak(f.peakBytes, profile.peak.bytes);
    out.push({ line: f.line!, text: inlineText(f, share, profile.settings.mode, detail), level: shareLevel(share), share, figures: f });
  }
  return out.sort((a, b) => a.line - b.line);
}

export function linesOfFile(profile: Profile, file: string): LineFigures[] {
  return profile.lines.filter((f) => f.file !== null && f.line !== null && f.line > 0 && sameFile(f.file, file));
}

/**
 * compact: `1.2 GiB at peak · saved 300 MiB · KV 64 MiB · ×12` (`makes 12 MiB` when nothing of the
 * line is live at the peak); full adds the share of the peak and what the line makes over the step.
 */
export function inlineText(f: LineFigures, share: number, mode: Profile['settings']['mode'], detail: Exclude<InlineDetail, 'off'>): string {
  const parts: string[] = [];
  if (detail === 'full') {
    parts.push(`${formatBytes(f.peakBytes)} at peak (${formatShare(share)})`, `makes ${formatBytes(f.bytes)}`);
  } else {
    // A line whose tensors are all freed before the peak still shows what it makes.
    parts.push(f.peakBytes > 0 ? `${formatBytes(f.peakBytes)} at peak` : `makes ${formatBytes(f.bytes)}`);
  }
  if (mode === 'train' && f.savedBytes > 0) parts.push(`saved ${formatBytes(f.savedBytes)}`);
  if (f.kvBytes > 0) parts.push(`KV ${formatBytes(f.kvBytes)}`);
  if (f.repeats > 1) parts.push(`×${f.repeats}`);
  return parts.join(' · ');
}
