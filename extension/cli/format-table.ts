// The human output of `memlens profile`: compact, aligned, the top lines by share of the peak.
import * as path from 'node:path';
import { CATEGORIES, type Category, type LineFigures, type Profile } from '../engine/profile';
import { formatBytes, formatCount } from '../engine/units';
import type { OrtHeldFigures } from '../engine/ort/held-figures';
import { sizeLabels } from '../presentation/summary-text';
import { DEFAULT_HIDE_BELOW, parseThreshold, shown, thresholdBytes, type FigureThreshold } from '../presentation/figure-threshold';
import { isTorchMeasured, torchLineAt, type TorchBucket, type TorchMeasuredFigures } from '../engine/measured-torch';

const LABELS: Record<Category, string> = {
  weights: 'weights', activations: 'activations', kvCache: 'KV cache', gradients: 'gradients',
  optimizerState: 'optimizer state', optimizerStep: 'optimizer step temporaries', inputs: 'inputs', outputs: 'outputs', other: 'other',
};

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

/** What ONNX Runtime holds, by named part; the ideal plan above stays the lower bound. */
function deviceLines(h: OrtHeldFigures, optimisedToo: boolean): string[] {
  const scratch = h.scratchNode ? `, kernel scratch up to ${formatBytes(h.scratchPeakBytes)} at ${h.scratchNode} (inside the arena)` : '';
  return [
    `device   ${formatBytes(h.deviceBytes)} needed on ONNX Runtime${optimisedToo ? ' with optimisations off' : ''}: weights ${formatBytes(h.deviceBytes - h.prepackedBytes - h.arenaHeldBytes + h.reservedBytes)}`
      + ` + prepacked ${formatBytes(h.prepackedBytes)} + arena held ${formatBytes(h.arenaHeldBytes)}`
      + (h.reservedBytes > 0 ? ` - ${formatBytes(h.reservedBytes)} of small weights the arena holds` : ''),
    `         arena in use at peak ${formatBytes(h.arenaInUsePeakBytes)} (requested ${formatBytes(h.requestedPeakBytes)})${scratch}`,
  ];
}

/**
 * The default session (optimisation level 'all'): what a user's session holds. Its prepacked
 * copies are reserved in the arena, so the arena's held bytes contain them.
 */
function optimisedLines(h: OrtHeldFigures): string[] {
  const weights = h.deviceBytes - h.arenaHeldBytes + h.reservedBytes;
  const arena = h.arenaHeldBytes - h.prepackedBytes;
  const scratch = h.scratchNode ? `, kernel scratch up to ${formatBytes(h.scratchPeakBytes)} at ${h.scratchNode}` : '';
  return [
    `optimised ${formatBytes(h.deviceBytes)} needed by ONNX Runtime's default session (level 'all', the one --run compares): weights ${formatBytes(weights)}`
      + ` + prepacked ${formatBytes(h.prepackedBytes)} + arena held ${formatBytes(arena)}` + (h.reservedBytes > 0 ? ` - ${formatBytes(h.reservedBytes)} of small weights the arena holds` : ''),
    `         arena in use at peak ${formatBytes(h.arenaInUsePeakBytes)} (memory pattern block ${formatBytes(h.memPatternBytes ?? 0)}${scratch})`,
  ];
}

function pct(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '-';
}

export interface TableOptions {
  budget?: number;
  cwd: string;
  topLines?: number;
  /** Per-line figures under it are left out (default 0.1% of the peak). */
  hideBelow?: FigureThreshold;
}

/** `KV cache 18.0 MiB`, and for a decode step the cache it reads beside the one it writes. */
function kvTotals(t: Profile['totals']): string[] {
  if (!t.kvCacheBytes) return [];
  const past = t.kvPastBytes ?? 0;
  if (past === 0) return [`KV cache ${formatBytes(t.kvCacheBytes)}`];
  return [`KV cache ${formatBytes(past + t.kvCacheBytes)} held in the step: past ${formatBytes(past)} read + present ${formatBytes(t.kvCacheBytes)} written`];
}

export function formatProfile(p: Profile, options: TableOptions): string {
  // Paths under the working directory print relative; others (installed libraries) stay absolute.
  const rel = (f: string) => {
    if (!path.isAbsolute(f)) return f;
    const r = path.relative(options.cwd, f);
    return r && !r.startsWith('..') ? r : f;
  };
  const s = p.settings;
  const out: string[] = [];
  const mode = s.mode === 'train' ? `training (${s.optimizer})` : 'inference';
  out.push(`MemLens · ${rel(p.source)}${p.entry ? ` · ${p.entry}` : ''} · ${[mode, ...sizeLabels(s), s.dtype].join(' · ')}`);
  out.push(`params   ${formatCount(p.params)} (${p.params.toLocaleString('en-US')})${s.mode === 'train' ? `, trainable ${formatCount(p.trainableParams)}` : ''}`);
  const where = p.peak.source ? ` (${rel(p.peak.source.file)}:${p.peak.source.line})` : '';
  out.push(`peak     ${formatBytes(p.peak.bytes)} during ${p.peak.phase} at ${p.peak.op} ${p.peak.node}${where}`);
  if (isTorchMeasured(p.measured)) {
    out.push(...torchSummary(p.measured));
  } else if (p.measured) {
    const m = p.measured;
    out.push(`measured on ${m.ep}: ${m.wallMs.toFixed(2)} ms per run`);
    for (const skipped of m.providersSkipped) out.push(`         ${skipped.ep} not used: ${skipped.reason}`);
    for (const line of m.comparison?.summary ?? []) out.push(`         ${line}`);
  }
  if (options.budget !== undefined) {
    const over = p.peak.bytes > options.budget;
    out.push(`budget   ${formatBytes(options.budget)} ${over ? `EXCEEDED by ${formatBytes(p.peak.bytes - options.budget)}` : `ok (${pct(p.peak.bytes, options.budget)} used)`}`);
  }
  out.push('', 'at the peak');
  const shown = CATEGORIES.filter((c) => p.breakdown[c] > 0);
  const width = Math.max(16, ...shown.map((c) => LABELS[c].length + 2));
  for (const c of shown) {
    const v = p.breakdown[c];
    out.push(`  ${pad(LABELS[c], width)}${pad(formatBytes(v), 12, true)}  ${pad(pct(v, p.peak.bytes), 6, true)}`);
  }
  const t = p.totals;
  const totals = [`weights ${formatBytes(t.weightBytes)}`];
  totals.push(...kvTotals(t));
  if (s.mode === 'train') {
    totals.push(`saved for backward ${formatBytes(t.savedActivationBytes)}`, `gradients ${formatBytes(t.gradientBytes)}`, `optimizer state ${formatBytes(t.optimizerStateBytes)}`);
  }
  out.push('', `totals   ${totals.join(' · ')}`);
  out.push(`arena    ideal reuse ${formatBytes(p.plan.idealPeakBytes)}, greedy offset plan ${formatBytes(p.plan.offsetPlanBytes)} (fragmentation ${(100 * p.plan.fragmentation).toFixed(1)}%)`);
  if (p.ortHeld) out.push(...deviceLines(p.ortHeld, p.ortOptimised !== undefined));
  if (p.ortOptimised) out.push(...optimisedLines(p.ortOptimised));

  const min = thresholdBytes(options.hideBelow ?? parseThreshold(DEFAULT_HIDE_BELOW, '--hide-below'), p.peak.bytes);
  out.push(...linesSection(p, rel, options.topLines ?? 10, min));
  if (isTorchMeasured(p.measured)) out.push('', ...torchAtPeak(p.measured, rel, options.topLines ?? 10));
  if (p.unknownTensors > 0 || p.warnings.length) {
    out.push('', ...p.warnings.map((w) => `warning: ${w}`));
  }
  return out.join('\n');
}

function torchSummary(m: TorchMeasuredFigures): string[] {
  const steps = m.steps.length;
  const what = m.mode === 'train'
    ? `${steps} training step${steps === 1 ? '' : 's'} of ${m.step.source === 'script' ? "the script's own loop" : 'MemLens (the model as written)'} (optimizer ${m.step.optimizer ?? 'none'}, loss ${m.step.loss ?? '-'})`
    : `${steps} forward${steps === 1 ? '' : 's'} under torch.inference_mode()`;
  const out = [`measured in PyTorch ${m.torchVersion} on ${m.device}: ${what}; ${m.wallMs.toFixed(1)} ms per step`];
  const first = m.mode === 'train' ? m.steps.find((s) => s.step === 0) : undefined;
  out.push(`         peak ${formatBytes(m.peakBytes)} in step ${m.peakStep + 1}${m.peakPhase ? ` during ${m.peakPhase}` : ''}${first && m.peakStep !== 0 ? `; first step ${formatBytes(first.peakBytes)}` : ''}` +
    (m.reservedBytes !== null ? `; reserved ${formatBytes(m.reservedBytes)}` : ''));
  if (m.comparison) out.push(...m.comparison.summary.map((l) => `         ${l}`));
  else if (m.noComparison) out.push(`         ${m.noComparison}`);
  for (const n of m.notes) out.push(`         note: ${n}`);
  return out;
}

/** The top lines at the peak, each followed by what its figure at the peak is made of. */
function linesSection(p: Profile, rel: (f: string) => string, topLines: number, min: number): string[] {
  const s = p.settings;
  const out: string[] = [];
  const live = p.lines.filter((l) => l.peakBytes > 0);
  const top = live.filter((l) => shown(l.peakBytes, min)).slice(0, topLines);
  if (top.length === 0) return out;
  const perCall = top.some((l) => l.repeats > 1);
  const torch = isTorchMeasured(p.measured) ? p.measured : null;
  const ort = p.measured && !isTorchMeasured(p.measured) ? p.measured : null;
  const measuredByNode = new Map((ort?.perNode ?? []).map((n) => [n.node, n.outputBytes]));
  const withMeasured = measuredByNode.size > 0 || torch !== null;
  out.push('', 'top lines at the peak');
  const head = `  ${pad('share', 6, true)}  ${pad('at peak', 11, true)}  ${pad('produced', 11, true)}${perCall ? `  ${pad('per call', 11, true)}` : ''}${s.mode === 'train' ? `  ${pad('saved', 11, true)}` : ''}${withMeasured ? `  ${pad('measured', 11, true)}` : ''}  ${pad('×', 3, true)}  line`;
  out.push(head);
  for (const l of top) {
    const loc = l.file ? `${rel(l.file)}:${l.line}` : l.scope || '(graph)';
    const scope = l.file && l.scope ? `  ${l.scope}` : '';
    const measured = torch
      ? (l.file !== null && l.line !== null ? torchLineAt(torch, l.file, l.line)?.bytes ?? 0 : 0)
      : l.nodes.reduce((a, n) => a + (measuredByNode.get(n) ?? 0), 0);
    out.push(
      `  ${pad(pct(l.peakBytes, p.peak.bytes), 6, true)}  ${pad(formatBytes(l.peakBytes), 11, true)}  ${pad(formatBytes(l.bytes), 11, true)}` +
        (perCall ? `  ${pad(l.repeats > 1 ? formatBytes(l.perCallBytes) : '-', 11, true)}` : '') +
        (s.mode === 'train' ? `  ${pad(formatBytes(l.savedBytes), 11, true)}` : '') +
        (withMeasured ? `  ${pad(formatBytes(measured), 11, true)}` : '') +
        `  ${pad(String(l.repeats), 3, true)}  ${loc}${scope}`,
    );
    const parts = peakParts(l, min);
    if (parts) out.push(`          of which ${parts}`);
  }
  const hidden = live.filter((l) => !shown(l.peakBytes, min)).length;
  if (hidden > 0 && min > 0) out.push(`  (${hidden} line${hidden === 1 ? '' : 's'} under ${formatBytes(min)} at the peak not shown; --hide-below 0 shows every figure)`);
  return out;
}

/** `weights 97.7 MiB · activations 1.2 MiB`: the categories of a line's bytes at the peak, those under `min` left out. */
export function peakParts(l: LineFigures, min = 0): string {
  return CATEGORIES.filter((c) => shown(l.peakByCategory[c], min)).map((c) => `${LABELS[c]} ${formatBytes(l.peakByCategory[c])}`).join(' · ');
}

const BUCKETS: Record<TorchBucket, string> = {
  parameters: 'parameters', buffers: 'buffers', inputs: 'inputs', gradients: 'gradients', optimizerState: 'optimizer state',
  backward: 'backward (no forward line)', optimizer: 'optimizer temporaries', other: 'other',
};

/** What PyTorch held at its peak: the lines of model code and the named buckets, summing to the peak. */
function torchAtPeak(m: TorchMeasuredFigures, rel: (f: string) => string, top: number): string[] {
  const out = [`measured at the peak (PyTorch, ${formatBytes(m.peakBytes)}: lines and buckets sum to it)`];
  for (const l of m.atPeak.lines.slice(0, top)) {
    out.push(`  ${pad(pct(l.bytes, m.peakBytes), 6, true)}  ${pad(formatBytes(l.bytes), 11, true)}  ${rel(l.file)}:${l.line}${l.backwardBytes > 0 ? `  (backward ${formatBytes(l.backwardBytes)})` : ''}`);
  }
  const rest = m.atPeak.lines.slice(top).reduce((a, l) => a + l.bytes, 0);
  if (rest > 0) out.push(`  ${pad(pct(rest, m.peakBytes), 6, true)}  ${pad(formatBytes(rest), 11, true)}  ${m.atPeak.lines.length - top} more lines`);
  for (const [bucket, bytes] of Object.entries(m.atPeak.buckets) as Array<[TorchBucket, number]>) {
    if (bytes > 0) out.push(`  ${pad(pct(bytes, m.peakBytes), 6, true)}  ${pad(formatBytes(bytes), 11, true)}  ${BUCKETS[bucket] ?? bucket}`);
  }
  return out;
}
