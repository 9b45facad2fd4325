// The harness's table: one line per model, then the median and maximum error per column.
// Errors read "estimate N% below/above measured".
import { formatBytes } from '../../../extension/engine/units';
import type { ColumnSummary, FigurePair, ModelRow, Summary } from './compare-rows';

export function errorText(errorPct: number): string {
  if (errorPct === 0) return 'exact';
  const n = Math.abs(errorPct);
  const digits = n < 0.1 ? 2 : 1;
  return `${n.toFixed(digits)}% ${errorPct < 0 ? 'below' : 'above'}`;
}

function figure(p: FigurePair | null | undefined): string {
  if (!p) return '-';
  return `${formatBytes(p.estimate)} vs ${formatBytes(p.measured)}: ${errorText(p.errorPct)}`;
}

/** The optimised figure against the largest session peak, and the spread when the sessions differ. */
function optimisedFigure(r: ModelRow): string {
  const peaks = r.optimisedPeaks ?? [];
  if (!r.optimised || peaks.length < 2) return figure(r.optimised);
  const least = peaks.reduce((a, b) => (b < a ? b : a));
  const spread = least === r.optimised.measured ? `all ${peaks.length} sessions` : `largest of ${peaks.length} sessions, least ${formatBytes(least)}`;
  return `${figure(r.optimised)} (${spread})`;
}

/** The static arena figure, and where the run took another branch, the figure with that branch pinned. */
function arenaFigure(r: ModelRow): string {
  const p = r.arenaPinned;
  if (!p) return figure(r.arena);
  const ran = p.branches.map((b) => `${b.node} ran ${b.ran}`).join(', ');
  return `${figure(r.arena)} [${ran}; pinned: ${formatBytes(p.estimate)}: ${errorText(p.errorPct)}]`;
}

function weights(r: ModelRow): string {
  const w = r.weights!;
  if (w.differenceBytes === 0) return `${formatBytes(w.measured)} exact`;
  const sign = w.differenceBytes < 0 ? '-' : '+';
  return `${formatBytes(w.estimate)} vs ${formatBytes(w.measured)} (${sign}${formatBytes(Math.abs(w.differenceBytes))})`;
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
}

const HEADER = ['model', 'weights (estimate vs onnx facts)', 'arena, opts off (estimate vs ORT peak) [branch the run took, pinned]', 'optimised (estimate vs largest ORT session peak)', 'nodes within 1 KiB', 'unknown'];

function rowCells(r: ModelRow): string[] {
  if (!r.ok) return [r.name, `FAILED: ${r.error ?? ''}`, '', '', '', ''];
  const n = r.nodes!;
  const nodes = `${(n.share * 100).toFixed(0)}% (${n.within}/${n.measured}${n.missing ? `, ${n.missing} not estimated` : ''})`;
  return [r.name, weights(r), arenaFigure(r), optimisedFigure(r), nodes, String(r.unknownTensors ?? 0)];
}

function columnLine(label: string, c: ColumnSummary): string {
  return `  ${label}: median estimate ${c.medianAbsErrorPct.toFixed(1)}% off measured, max ${c.maxAbsErrorPct.toFixed(1)}% (${c.below} below, ${c.above} above, of ${c.models})`;
}

export function formatTable(rows: ModelRow[], summary: Summary): string {
  const cells = [HEADER, ...rows.map(rowCells)];
  const sized = [HEADER, ...rows.filter((r) => r.ok).map(rowCells), [rows.reduce((w, r) => (r.name.length > w.length ? r.name : w), '')]];
  const widths = HEADER.map((_h, i) => Math.max(...sized.map((c) => (c[i] ?? '').length)));
  const lines = cells.map((c, i) => (i > 0 && !rows[i - 1].ok ? `${c[0].padEnd(widths[0])}  ${c[1]}` : pad(c, widths)));
  lines.push('');
  lines.push(`${summary.models} models, ${summary.failed} without figures`);
  lines.push(`  weights: exact on ${summary.weightsExact} of ${summary.models - summary.failed}; median ${summary.weights.medianAbsErrorPct.toFixed(2)}% off, max ${summary.weights.maxAbsErrorPct.toFixed(2)}%`);
  lines.push(columnLine('activation arena, optimisations off (static: an unknown If condition sized by the larger branch)', summary.arena));
  lines.push(columnLine(`activation arena, optimisations off, with the branch each run took pinned (${summary.branchPinned} re-analysed)`, summary.arenaPinned));
  lines.push(columnLine('optimised session', summary.optimised));
  lines.push(`  requested-in-use within 1 KiB: ${(summary.nodesWithinShare * 100).toFixed(1)}% of all measured nodes; median model ${(summary.medianModelNodeShare * 100).toFixed(1)}%`);
  lines.push(`  unknown tensors: ${summary.unknownTensors}`);
  return lines.join('\n');
}
