// The hover of a line: its full breakdown as Markdown (figures, per op, per kind, and the
// measurement of the line's nodes when a run exists).
import { isTorchMeasured, torchLineAt } from '../engine/measured-torch';
import { CATEGORIES, type Category, type LineFigures, type Profile } from '../engine/profile';
import { formatBytes, formatShare } from '../engine/units';
import { sourceLabel } from './source-label';
import { shareOfPeak } from './share';
import { sizeLabels } from './summary-text';
import { DEFAULT_HIDE_BELOW, parseThreshold, shown, thresholdBytes, type FigureThreshold } from './figure-threshold';

export interface LineMeasurement {
  ep: string;
  /** Nodes of the line the run reported. */
  nodes: number;
  outputBytes: number;
  durationUs: number;
  /** Largest arena in-use figure after one of the line's nodes. */
  maxInUseBytes: number;
}

export function lineMeasurement(profile: Profile, f: LineFigures): LineMeasurement | null {
  const m = profile.measured;
  if (!m || isTorchMeasured(m)) return null;
  const names = new Set(f.nodes);
  let nodes = 0, outputBytes = 0, durationUs = 0, maxInUseBytes = 0;
  for (const n of m.perNode) {
    if (!names.has(n.node)) continue;
    nodes++;
    outputBytes += n.outputBytes;
    durationUs += n.durationUs;
    maxInUseBytes = Math.max(maxInUseBytes, n.inUseBytes);
  }
  return nodes > 0 ? { ep: m.ep, nodes, outputBytes, durationUs, maxInUseBytes } : null;
}

const row = (label: string, value: string) => `| ${label} | ${value} |`;

export const CATEGORY_LABELS: Record<Category, string> = {
  weights: 'weights', activations: 'activations', kvCache: 'KV cache', gradients: 'gradients',
  optimizerState: 'optimizer state', optimizerStep: 'optimizer step temporaries', inputs: 'inputs', outputs: 'outputs', other: 'other',
};

/** Rows of the line's own figures: at the peak (by part), made per call and in total, saved, KV. */
function figureRows(profile: Profile, f: LineFigures, min: number): string[] {
  const s = profile.settings;
  const out = [
    row('live at the peak', `${formatBytes(f.peakBytes)} (${formatShare(shareOfPeak(f.peakBytes, profile.peak.bytes))})`),
    ...(f.repeats > 1
      ? [row('produced per call', formatBytes(f.perCallBytes)), row(`produced over the step (×${f.repeats})`, formatBytes(f.bytes))]
      : [row('produced over the step', formatBytes(f.bytes))]),
  ];
  // What the figure at the peak is made of (weights, optimizer step temporaries...), one row each;
  // parts under the threshold (a 16 B shape tensor) are counted, not listed.
  let hidden = 0;
  for (const c of CATEGORIES) {
    if (shown(f.peakByCategory[c], min)) out.push(row(`· ${CATEGORY_LABELS[c]} at the peak`, formatBytes(f.peakByCategory[c])));
    else hidden += f.peakByCategory[c];
  }
  if (hidden > 0 && hidden !== f.peakBytes) out.push(row(`· smaller parts (each under ${formatBytes(min)})`, formatBytes(hidden)));
  if (s.mode === 'train') out.push(row('saved for backward', formatBytes(f.savedBytes)));
  if (f.kvBytes > 0) out.push(row('KV cache', formatBytes(f.kvBytes)));
  out.push(row('runs', f.repeats > 1 ? `×${f.repeats}` : 'once'));
  return out;
}

export function lineHoverMarkdown(profile: Profile, f: LineFigures, hideBelow: FigureThreshold = parseThreshold(DEFAULT_HIDE_BELOW, 'memlens.hideFiguresBelow')): string {
  const where = f.file ? sourceLabel(f.file, f.line) : f.scope;
  const s = profile.settings;
  const min = thresholdBytes(hideBelow, profile.peak.bytes);
  const out: string[] = [
    `**MemLens** · ${where}${f.scope ? ` · \`${f.scope}\`` : ''}`,
    '',
    `${[s.mode === 'train' ? 'training' : 'inference', ...sizeLabels(s), s.dtype].join(', ')}; peak ${formatBytes(profile.peak.bytes)} (${profile.peak.phase})`,
    '',
    '| | estimate |',
    '|---|---:|',
    ...figureRows(profile, f, min),
  ];

  const kinds: Array<[string, number]> = [
    ['activations', Math.max(0, f.bytes - f.kvBytes)],
    ['KV cache', f.kvBytes],
    ['saved for backward', s.mode === 'train' ? f.savedBytes : 0],
  ];
  const shownKinds = kinds.filter(([, b]) => shown(b, min));
  if (shownKinds.length > 0) {
    out.push('', '| by category | bytes |', '|---|---:|', ...shownKinds.map(([k, b]) => row(k, formatBytes(b))));
  }

  const ops = Object.entries(f.ops).filter(([, b]) => shown(b, min)).sort((a, b) => b[1] - a[1]);
  if (ops.length > 0) {
    out.push('', '| by op | bytes |', '|---|---:|', ...ops.map(([op, b]) => row(op, formatBytes(b))));
  }

  const torch = torchLineMeasurement(profile, f);
  const m = lineMeasurement(profile, f);
  if (torch) {
    out.push('', ...torch);
  } else if (m) {
    out.push(
      '', `| measured (${m.ep}, ${m.nodes} node${m.nodes === 1 ? '' : 's'}) | |`, '|---|---:|',
      row('outputs', formatBytes(m.outputBytes)),
      row('arena in use after the line (max)', formatBytes(m.maxInUseBytes)),
      row('time', `${(m.durationUs / 1000).toFixed(2)} ms`),
    );
  } else if (profile.measured && !isTorchMeasured(profile.measured)) {
    out.push('', `_The ${profile.measured.ep} run reported none of this line's nodes (fused or folded by ONNX Runtime)._`);
  }
  return out.join('\n');
}

/** The PyTorch run's figures for a line: bytes it allocated that are live at the measured peak. */
function torchLineMeasurement(profile: Profile, f: LineFigures): string[] | null {
  const m = profile.measured;
  if (!isTorchMeasured(m) || f.file === null || f.line === null) return null;
  const hit = torchLineAt(m, f.file, f.line);
  const head = [`| measured (PyTorch ${m.torchVersion}, ${m.device}) | |`, '|---|---:|'];
  if (!hit) return [...head, row('live at the measured peak', '0 B')];
  return [
    ...head,
    row('live at the measured peak', `${formatBytes(hit.bytes)} (${formatShare(shareOfPeak(hit.bytes, m.peakBytes))})`),
    ...(hit.backwardBytes > 0 ? [row('of which made by its backward', formatBytes(hit.backwardBytes))] : []),
  ];
}
