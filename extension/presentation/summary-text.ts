// Short texts that sum a profile up: the CodeLens title on a model entry and the status bar item.
import type { Profile } from '../engine/profile';
import { formatBytes } from '../engine/units';
import type { Budget } from './budget';

export function modeLabel(mode: Profile['settings']['mode']): string {
  return mode === 'train' ? 'training' : 'inference';
}

/** `Peak 14.2 GiB · training · batch 8 · seq 2048` (and `· fp16` when not fp32). */
/** Only the sizes that shaped the analysis: no "seq" for an image model, no "batch" that a
 * fixed-shape file ignored. A profile without `sized` (older JSON) shows both. */
export function sizeLabels(s: Profile['settings']): string[] {
  // Which one sized the figures: a size the script's own call set is marked, a setting is not.
  const from = (k: 'batch' | 'seq') => (s.fromCode?.includes(k) ? ' (as in the code)' : '');
  return [
    ...(s.sized?.batch ?? true ? [`batch ${s.batch}${from('batch')}`] : []),
    ...(s.sized?.seq ?? true ? [`seq ${s.seq}${from('seq')}`] : []),
    ...(s.past !== undefined ? [`past ${s.past}`] : []),
  ];
}

export function lensTitle(profile: Profile): string {
  const s = profile.settings;
  const parts = [`Peak ${formatBytes(profile.peak.bytes)}`, modeLabel(s.mode), ...sizeLabels(s)];
  if (s.dtype !== 'fp32') parts.push(s.dtype);
  return parts.join(' · ');
}

export interface StatusText {
  text: string;
  tooltip: string;
  overBudget: boolean;
}

/** `MemLens 14.2 GiB / 24.0 GiB` against a budget, `MemLens 14.2 GiB` without one. */
/** Takes a profile or its first figures (engine/analyze.ts FirstFigures), which have no measurement. */
export function statusText(profile: Pick<Profile, 'peak' | 'settings'> & Partial<Pick<Profile, 'measured'>>, budget: Budget | null): StatusText {
  const peak = formatBytes(profile.peak.bytes);
  const over = budget !== null && profile.peak.bytes > budget.bytes;
  const where = profile.peak.source ? ` at line ${profile.peak.source.line}` : '';
  const tooltipLines = [
    `Peak ${peak} (${profile.peak.phase}, ${profile.peak.op} ${profile.peak.node}${where})`,
    [modeLabel(profile.settings.mode), ...sizeLabels(profile.settings), profile.settings.dtype].join(', '),
    budget ? `Budget ${budget.label}${over ? `: over by ${formatBytes(profile.peak.bytes - budget.bytes)}` : ''}` : 'No budget set (memlens.budget)',
  ];
  if (profile.measured) tooltipLines.push(`Measured on ${profile.measured.ep}: ${formatBytes(profile.measured.peakBytes)}`);
  return {
    text: budget ? `MemLens ${peak} / ${formatBytes(budget.bytes)}` : `MemLens ${peak}`,
    tooltip: tooltipLines.join('\n'),
    overBudget: over,
  };
}
