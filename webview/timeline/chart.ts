// The memory timeline: live bytes over execution order, stacked by category, with the phases
// named, the peak marked beside its label, the budget line, the measured series when a run
// exists and the curve from before the last fix. The byte axis has power-of-two ticks and fits
// the visible datasets (hiding one rescales it); when the curve sits high above zero (the weights
// of an inference pass) the axis starts just below it and the weights stay as a band at the
// bottom, so the activations are not flattened and every figure still reads as a total.
import {
  Chart, Filler, LinearScale, LineController, LineElement, PointElement, Tooltip,
  type ActiveElement, type ChartDataset, type Plugin, type Scale,
} from 'chart.js';
import type { ChartPoint, PanelState, SourceLink } from '../protocol';
import { formatBytes } from '../../extension/engine/units';
import { cursorAfterKey, type Box } from './geometry';
import { drawMarks, visibleTops, type MarkGeometry } from './marks';
import { byteAxis, tickLabel, type ByteAxis } from './scale';
import { categoryColor, themeColors, withAlpha, type ThemeColors } from './theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Tooltip);

type XY = { x: number; y: number };

export interface LegendEntry {
  index: number;
  label: string;
  color: string;
  visible: boolean;
}

export interface ChartEvents {
  reveal(source: SourceLink): void;
  /** The keyboard or pointer cursor moved to a point (null: none). */
  cursor(point: ChartPoint | null): void;
  /** The byte axis was laid out again (data attributes for tests and screen readers). */
  axis(axis: ByteAxis, marks: MarkGeometry): void;
}

export interface TimelineChart {
  destroy(): void;
  legend(): LegendEntry[];
  toggle(datasetIndex: number): void;
  setFit(fit: boolean): void;
}

interface Ctx {
  state: PanelState;
  colors: ThemeColors;
  fit: boolean;
  axis: ByteAxis;
  cursor: number | null;
  marks: MarkGeometry;
  datasetCount: { categories: number; measured: number | null; before: number | null };
}

function categoryDatasets(state: PanelState): ChartDataset<'line', XY[]>[] {
  return state.categories.map((c, i) => {
    const color = categoryColor(c);
    return {
      label: state.categoryLabels[i],
      data: state.points.map((p) => ({ x: p.index, y: p.stack[i] })),
      borderColor: color, backgroundColor: withAlpha(color, 0.45), borderWidth: 1,
      pointRadius: 0, pointHitRadius: 4, fill: i === 0 ? 'origin' : '-1', stack: 'estimate', tension: 0, order: 2,
    };
  });
}

function datasets(state: PanelState, colors: ThemeColors, ctx: Ctx): ChartDataset<'line', XY[]>[] {
  const out = categoryDatasets(state);
  if (state.measured) {
    ctx.datasetCount.measured = out.length;
    out.push({
      label: state.measured.label, data: state.measured.points.map((p) => ({ x: p.index, y: p.bytes })),
      borderColor: colors.measured, backgroundColor: colors.measured, borderDash: [5, 3], borderWidth: 2,
      pointRadius: 0, fill: false, stack: 'measured', order: 1,
    });
  }
  if (state.comparison) {
    ctx.datasetCount.before = out.length;
    out.push({
      label: `before: ${state.comparison.action} (peak ${state.comparison.beforeLabel})`,
      data: state.comparison.points.map((p) => ({ x: p.index, y: p.bytes })),
      borderColor: colors.before, backgroundColor: colors.before, borderDash: [2, 3], borderWidth: 2,
      pointRadius: 0, fill: false, stack: 'before', order: 1,
    });
  }
  return out;
}

/**
 * The range the axis must show: the visible datasets, and the budget when it is near them; and
 * the constant bottom of the visible stack (the weights), drawn as a band on a fitted axis.
 */
function visibleRange(chart: Chart, ctx: Ctx): { low: number; high: number; base: number } {
  const values = visibleTops(chart, ctx.state);
  const { measured, before } = ctx.datasetCount;
  if (measured !== null && chart.isDatasetVisible(measured)) values.push(...ctx.state.measured!.points.map((p) => p.bytes));
  if (before !== null && chart.isDatasetVisible(before)) values.push(...ctx.state.comparison!.points.map((p) => p.bytes));
  let low = values.length > 0 ? Infinity : 0, high = 0;
  for (const v of values) {
    if (v > high) high = v;
    if (v < low) low = v;
  }
  const budget = ctx.state.budgetBytes;
  // A budget within half again of the curve is worth room on the axis; a far one gets a label.
  if (budget !== null && high > 0 && budget <= 1.5 * high) {
    low = Math.min(low, budget);
    high = Math.max(high, budget);
  }
  return { low, high, base: constantBase(chart, ctx.state) };
}

/** Bytes of the visible categories at the bottom of the stack that hold the same bytes at every step. */
function constantBase(chart: Chart, state: PanelState): number {
  let base = 0;
  for (let i = 0; i < state.categories.length; i++) {
    if (!chart.isDatasetVisible(i)) continue;
    const first = state.points[0]?.stack[i] ?? 0;
    if (!state.points.every((p) => p.stack[i] === first)) break;
    base += first;
  }
  return base;
}

function yScale(ctx: Ctx) {
  return {
    type: 'linear' as const,
    stacked: true,
    title: { display: true, text: 'live bytes', color: ctx.colors.muted },
    grid: { color: withAlpha(ctx.colors.grid, 0.4) },
    ticks: { color: ctx.colors.muted, autoSkip: false, callback: (v: number | string) => tickLabel(Number(v), ctx.axis.max, ctx.axis.step) },
    afterDataLimits: (scale: Scale) => {
      const { low, high, base } = visibleRange(scale.chart, ctx);
      ctx.axis = byteAxis(low, high, ctx.fit, base);
      scale.min = ctx.axis.min;
      scale.max = ctx.axis.max;
    },
    afterBuildTicks: (scale: Scale) => {
      scale.ticks = ctx.axis.ticks.map((value) => ({ value }));
    },
  };
}

function tooltipCallbacks(ctx: Ctx) {
  const at = (items: { dataIndex: number }[]) => ctx.state.points[items[0]?.dataIndex ?? -1];
  return {
    title: (items: { dataIndex: number }[]) => {
      const p = at(items);
      return p ? `${p.op} ${p.node} (${p.phase}, step ${p.index})` : '';
    },
    label: (item: { dataset: { label?: string }; parsed: { y: number | null } }) => `${item.dataset.label}: ${formatBytes(item.parsed.y ?? 0)}`,
    footer: (items: { dataIndex: number }[]) => {
      const p = at(items);
      if (!p) return '';
      const before = ctx.state.comparison ? nearestCurve(ctx.state.comparison.points, p.index) : undefined;
      return [
        `total ${formatBytes(p.liveBytes)}`,
        ...(before ? [`before the fix ${formatBytes(before.bytes)} (step ${before.index})`] : []),
        ...(p.source ? [`${p.source.label}: click or Enter opens it`] : []),
      ];
    },
  };
}

function nearestCurve(points: XY[] | { index: number; bytes: number }[], x: number): { index: number; bytes: number } | undefined {
  let best: { index: number; bytes: number } | undefined;
  for (const raw of points) {
    const p = 'index' in raw ? raw : { index: raw.x, bytes: raw.y };
    if (!best || Math.abs(p.index - x) < Math.abs(best.index - x)) best = p;
  }
  return best;
}

/** The drawn point closest to step `x`. */
export function nearestPoint(state: PanelState, x: number): number {
  let best = -1;
  state.points.forEach((p, i) => {
    if (best < 0 || Math.abs(p.index - x) < Math.abs(state.points[best].index - x)) best = i;
  });
  return best;
}

function marksPlugin(ctx: Ctx, events: ChartEvents): Plugin<'line'> {
  return {
    id: 'memlensMarks',
    beforeDatasetsDraw(chart) {
      drawMarks(chart, ctx, 'under');
    },
    afterDatasetsDraw(chart) {
      ctx.marks = drawMarks(chart, ctx, 'over');
      events.axis(ctx.axis, ctx.marks);
    },
  };
}

/** Shows the tooltip of point `i` as the pointer would, for keyboard users. */
function showCursor(chart: Chart, ctx: Ctx, i: number | null, events: ChartEvents): void {
  ctx.cursor = i;
  const p = i === null ? null : ctx.state.points[i];
  const els: ActiveElement[] = [];
  if (p && i !== null) {
    for (let d = 0; d < ctx.state.categories.length; d++) {
      if (chart.isDatasetVisible(d)) els.push({ datasetIndex: d, index: i, element: chart.getDatasetMeta(d).data[i] });
    }
  }
  chart.setActiveElements(els);
  const top = els.length ? els[els.length - 1].element : undefined;
  chart.tooltip?.setActiveElements(els, { x: top?.x ?? 0, y: top?.y ?? 0 });
  chart.update('none');
  events.cursor(p);
}

function keyboard(canvas: HTMLCanvasElement, chart: Chart, ctx: Ctx, events: ChartEvents): void {
  const peakAt = () => Math.max(0, ctx.state.points.findIndex((p) => p.index === ctx.state.peak.index));
  canvas.addEventListener('focus', () => showCursor(chart, ctx, ctx.cursor ?? peakAt(), events));
  canvas.addEventListener('blur', () => showCursor(chart, ctx, null, events));
  canvas.addEventListener('keydown', (e) => {
    const at = ctx.cursor ?? peakAt();
    if (e.key === 'Enter' || e.key === ' ') {
      const source = ctx.state.points[at]?.source;
      if (source) events.reveal(source);
      e.preventDefault();
      return;
    }
    const next = cursorAfterKey(e.key, e.shiftKey, at, ctx.state.points.length, peakAt());
    if (next === null) return;
    e.preventDefault();
    showCursor(chart, ctx, next, events);
  });
}

export function drawTimeline(canvas: HTMLCanvasElement, state: PanelState, fit: boolean, events: ChartEvents): TimelineChart {
  const colors = themeColors();
  const ctx: Ctx = {
    state, colors, fit, axis: byteAxis(0, 0, false), cursor: null, marks: { peak: null, peakLabel: null, fixLabel: null },
    datasetCount: { categories: state.categories.length, measured: null, before: null },
  };
  const chart = new Chart<'line', XY[]>(canvas, {
    type: 'line',
    data: { datasets: datasets(state, colors, ctx) },
    plugins: [marksPlugin(ctx, events)],
    options: {
      animation: false, maintainAspectRatio: false, parsing: false, normalized: true,
      layout: { padding: { top: 18 } },
      interaction: { mode: 'index', axis: 'x', intersect: false },
      scales: {
        x: {
          type: 'linear', min: 0, max: Math.max(1, state.totalSteps - 1, (state.comparison?.totalSteps ?? 0) - 1),
          title: { display: true, text: 'execution order (step)', color: colors.muted },
          ticks: { color: colors.muted, precision: 0 }, grid: { color: withAlpha(colors.grid, 0.4) },
        },
        y: yScale(ctx),
      },
      plugins: {
        legend: { display: false },
        tooltip: { filter: (item) => item.datasetIndex < state.categories.length, callbacks: tooltipCallbacks(ctx) },
      },
      onClick: (event, _elements, c) => {
        const e = event.native as MouseEvent | null;
        const x = e ? c.scales.x.getValueForPixel(e.offsetX) : undefined;
        if (x === undefined) return;
        const i = nearestPoint(state, x);
        ctx.cursor = i;
        const source = state.points[i]?.source;
        if (source) events.reveal(source);
      },
    },
  });
  keyboard(canvas, chart, ctx, events);
  const c = chart;
  return {
    destroy: () => c.destroy(),
    legend: () => c.data.datasets.map((d, index) => ({
      index, label: d.label ?? '', color: typeof d.borderColor === 'string' ? d.borderColor : '', visible: c.isDatasetVisible(index),
    })),
    toggle: (i) => {
      c.setDatasetVisibility(i, !c.isDatasetVisible(i));
      c.update();
    },
    setFit: (f) => {
      ctx.fit = f;
      c.update();
    },
  };
}

export type { Box };
