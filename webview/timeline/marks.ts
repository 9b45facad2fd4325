// What the chart draws over its datasets: phase shading and names, the fitted axis's note, the
// budget line, the peak with its label beside it, the "before → after" figure of a fix and the
// keyboard cursor. Returns where the marks went, so the page can expose them.
import type { Chart } from 'chart.js';
import type { PanelState } from '../protocol';
import { formatBytes } from '../../extension/engine/units';
import { MARKER_RADIUS, markerBox, overlaps, peakLabelBox, type Area, type Box } from './geometry';
import { tickLabel, type ByteAxis } from './scale';
import type { ThemeColors } from './theme';

export interface MarkContext {
  state: PanelState;
  colors: ThemeColors;
  axis: ByteAxis;
  cursor: number | null;
}

export interface MarkGeometry {
  /** The peak marker's centre (the top of the visible stack at the peak step). */
  peak: { x: number; y: number } | null;
  peakLabel: Box | null;
  fixLabel: Box | null;
}

const FONT = 'var(--vscode-font-family, sans-serif)';

/** Sum of the visible categories at each drawn point: the top of the drawn stack. */
export function visibleTops(chart: Chart, state: PanelState): number[] {
  const visible = state.categories.map((_, i) => chart.isDatasetVisible(i));
  return state.points.map((p) => p.stack.reduce((sum, b, i) => (visible[i] ? sum + b : sum), 0));
}

/** Categories with the same bytes at every drawn step (weights, inputs in inference). */
export function constantCategories(state: PanelState): string[] {
  return state.categories
    .map((_, i) => i)
    .filter((i) => state.points.length > 1 && state.points.every((p) => p.stack[i] === state.points[0].stack[i]) && state.points[0].stack[i] > 0)
    .map((i) => `${state.categoryLabels[i]} ${formatBytes(state.points[0].stack[i])}`);
}

function text(c: CanvasRenderingContext2D, s: string, x: number, y: number, color: string, font: string): void {
  c.fillStyle = color;
  c.font = font;
  c.textBaseline = 'top';
  c.fillText(s, x, y);
}

function drawPhases(chart: Chart, m: MarkContext): void {
  const { ctx: c, chartArea: a, scales } = chart;
  for (const span of m.state.phases) {
    const l = Math.max(a.left, scales.x.getPixelForValue(span.start - 0.5));
    const r = Math.min(a.right, scales.x.getPixelForValue(span.end + 0.5));
    if (span.phase !== 'forward') {
      c.fillStyle = m.colors.phaseShade;
      c.fillRect(l, a.top, r - l, a.bottom - a.top);
    }
    // Names go in the padding above the plot, where no mark is drawn.
    if (r - l > 50) text(c, span.phase, l + 4, a.top - 15, m.colors.muted, `11px ${FONT}`);
  }
}

/** `text` shortened with an ellipsis (dropping whole list items first) to fit `width` pixels. */
function fitText(c: CanvasRenderingContext2D, text: string, width: number): string {
  let t = text;
  while (t.length > 1 && c.measureText(t).width > width) {
    const body = t.endsWith('…') ? t.slice(0, -1) : t;
    const cut = body.lastIndexOf(',');
    t = `${cut > 0 ? body.slice(0, cut) : body.slice(0, -1)}…`;
  }
  return t;
}

/** A fitted axis says where it starts and what the band at the bottom holds, with a break on the axis. */
function drawFittedNote(chart: Chart, m: MarkContext): void {
  if (!m.axis.fitted) return;
  const { ctx: c, chartArea: a } = chart;
  const constant = constantCategories(m.state);
  let note = `axis from ${tickLabel(m.axis.min, m.axis.max, m.axis.step)}${constant.length ? ` · every step: ${constant.join(', ')}` : ''}`;
  c.font = `11px ${FONT}`;
  note = fitText(c, note, a.right - a.left - 12);
  text(c, note, a.left + 6, a.bottom - 16, m.colors.foreground, `11px ${FONT}`);
  c.strokeStyle = m.colors.muted;
  c.lineWidth = 1;
  c.beginPath();
  for (const dy of [-2, 3]) {
    c.moveTo(a.left - 5, a.bottom - 6 + dy);
    c.lineTo(a.left + 5, a.bottom - 10 + dy);
  }
  c.stroke();
}

/** The budget line and its label, the label kept off the peak's label; above the axis, a note at the top. */
function drawBudget(chart: Chart, m: MarkContext, avoid: Box | null): void {
  const { budgetBytes, budgetLabel } = m.state;
  if (budgetBytes === null || budgetBytes < m.axis.min) return;
  const { ctx: c, chartArea: a, scales } = chart;
  const above = budgetBytes > m.axis.max;
  const label = `budget ${budgetLabel ?? formatBytes(budgetBytes)}${above ? ' ↑ (above the axis)' : ''}`;
  const y = above ? a.top + 2 : scales.y.getPixelForValue(budgetBytes) - 14;
  if (!above) {
    c.setLineDash([6, 4]);
    c.strokeStyle = m.colors.budget;
    c.beginPath();
    c.moveTo(a.left, y + 14);
    c.lineTo(a.right, y + 14);
    c.stroke();
    c.setLineDash([]);
  }
  c.font = `11px ${FONT}`;
  const w = c.measureText(label).width;
  let x = a.left + 4;
  if (avoid && overlaps({ x, y, w, h: 13 }, avoid)) x = Math.max(a.left + 4, a.right - w - 4);
  text(c, label, x, y, m.colors.budget, `11px ${FONT}`);
}

function drawPeak(chart: Chart, m: MarkContext, area: Area): Pick<MarkGeometry, 'peak' | 'peakLabel'> {
  const { ctx: c, scales } = chart;
  const i = m.state.points.findIndex((p) => p.index === m.state.peak.index);
  const tops = visibleTops(chart, m.state);
  if (i < 0 || tops[i] <= 0) return { peak: null, peakLabel: null };
  const x = scales.x.getPixelForValue(m.state.peak.index);
  const y = Math.max(area.top, scales.y.getPixelForValue(tops[i]));
  c.setLineDash([4, 3]);
  c.strokeStyle = m.colors.peak;
  c.beginPath();
  c.moveTo(x, area.top);
  c.lineTo(x, area.bottom);
  c.stroke();
  c.setLineDash([]);
  c.fillStyle = m.colors.peak;
  c.beginPath();
  c.moveTo(x, y + MARKER_RADIUS);
  c.lineTo(x - MARKER_RADIUS, y - MARKER_RADIUS);
  c.lineTo(x + MARKER_RADIUS, y - MARKER_RADIUS);
  c.closePath();
  c.fill();
  const shown = tops[i] < m.state.peak.bytes ? ` (${formatBytes(tops[i])} shown)` : '';
  const label = `peak ${m.state.peak.bytesLabel}${shown}`;
  c.font = `bold 12px ${FONT}`;
  const box = peakLabelBox({ x, y }, { w: c.measureText(label).width, h: 14 }, area);
  text(c, label, box.x, box.y, m.colors.peak, `bold 12px ${FONT}`);
  return { peak: { x, y }, peakLabel: box };
}

/** "10.3 GiB → 3.8 GiB" at the step that runs the changed line (or at the peak), clear of the peak's marker and label. */
function drawFix(chart: Chart, m: MarkContext, area: Area, avoid: Box[]): Box | null {
  const f = m.state.comparison;
  if (!f) return null;
  const { ctx: c, scales } = chart;
  const x = scales.x.getPixelForValue(f.atStep ?? m.state.peak.index);
  const label = `${f.beforeLabel} → ${f.afterLabel}`;
  c.font = `bold 12px ${FONT}`;
  const w = c.measureText(label).width + 8;
  let box: Box = { x: Math.min(Math.max(area.left, x - w / 2), area.right - w), y: area.top + 2, w, h: 16 };
  const hit = avoid.filter((b) => overlaps(box, b));
  if (hit.length > 0) box = { ...box, y: Math.max(...hit.map((b) => b.y + b.h)) + 4 };
  c.fillStyle = m.colors.badgeBackground;
  c.fillRect(box.x, box.y, box.w, box.h);
  text(c, label, box.x + 4, box.y + 2, m.colors.badgeForeground, `bold 12px ${FONT}`);
  return box;
}

function drawCursor(chart: Chart, m: MarkContext, area: Area): void {
  const p = m.cursor === null ? undefined : m.state.points[m.cursor];
  if (!p) return;
  const { ctx: c, scales } = chart;
  const x = scales.x.getPixelForValue(p.index);
  c.strokeStyle = m.colors.focus;
  c.lineWidth = 2;
  c.beginPath();
  c.moveTo(x, area.top);
  c.lineTo(x, area.bottom);
  c.stroke();
}

export function drawMarks(chart: Chart, m: MarkContext, layer: 'under' | 'over'): MarkGeometry {
  const c = chart.ctx;
  const a = chart.chartArea;
  const area: Area = { left: a.left, top: a.top, right: a.right, bottom: a.bottom };
  c.save();
  try {
    if (layer === 'under') {
      drawPhases(chart, m);
      return { peak: null, peakLabel: null, fixLabel: null };
    }
    drawFittedNote(chart, m);
    drawCursor(chart, m, area);
    const peak = drawPeak(chart, m, area);
    drawBudget(chart, m, peak.peakLabel);
    const fixLabel = drawFix(chart, m, area, [...(peak.peakLabel ? [peak.peakLabel] : []), ...(peak.peak ? [markerBox(peak.peak)] : [])]);
    return { ...peak, fixLabel };
  } finally {
    c.restore();
  }
}
