// The memory timeline: live bytes over execution order, stacked by category, with the phases
// shaded, the peak marked, the budget line, and the measured series when a run exists.
import {
  Chart, Filler, Legend, LinearScale, LineController, LineElement, PointElement, ScatterController, Tooltip,
  type ChartDataset, type Plugin,
} from 'chart.js';
import type { ChartPoint, PanelState } from '../protocol';
import { formatBytes } from '../../extension/engine/units';
import { categoryColor, themeColors, withAlpha, type ThemeColors } from './theme';

Chart.register(LineController, ScatterController, LineElement, PointElement, LinearScale, Filler, Tooltip, Legend);

type XY = { x: number; y: number };

export interface TimelineChart {
  destroy(): void;
  /** Canvas-relative CSS pixels of the peak marker (for keyboard users and tests). */
  peakPixel(): { x: number; y: number } | null;
}

/** Shades backward and optimizer spans and names each phase above the plot. */
function phasePlugin(state: PanelState, colors: ThemeColors): Plugin<'line'> {
  return {
    id: 'memlensPhases',
    beforeDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      ctx.save();
      ctx.font = '11px var(--vscode-font-family, sans-serif)';
      ctx.textBaseline = 'top';
      for (const span of state.phases) {
        const left = scales.x.getPixelForValue(span.start - 0.5);
        const right = scales.x.getPixelForValue(span.end + 0.5);
        const l = Math.max(chartArea.left, left), r = Math.min(chartArea.right, right);
        if (span.phase !== 'forward') {
          ctx.fillStyle = colors.phaseShade;
          ctx.fillRect(l, chartArea.top, r - l, chartArea.bottom - chartArea.top);
        }
        ctx.fillStyle = colors.muted;
        if (r - l > 50) ctx.fillText(span.phase, l + 4, chartArea.top + 2);
      }
      ctx.restore();
    },
  };
}

/** The peak's vertical line and label, and the budget's horizontal line. */
function marksPlugin(state: PanelState, colors: ThemeColors): Plugin<'line'> {
  return {
    id: 'memlensMarks',
    afterDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      ctx.save();
      ctx.setLineDash([4, 3]);
      ctx.lineWidth = 1;
      const px = scales.x.getPixelForValue(state.peak.index);
      ctx.strokeStyle = colors.peak;
      ctx.beginPath();
      ctx.moveTo(px, chartArea.top);
      ctx.lineTo(px, chartArea.bottom);
      ctx.stroke();
      const py = scales.y.getPixelForValue(state.peak.bytes);
      ctx.setLineDash([]);
      ctx.fillStyle = colors.peak;
      ctx.font = 'bold 12px var(--vscode-font-family, sans-serif)';
      const label = `peak ${state.peak.bytesLabel}`;
      const w = ctx.measureText(label).width;
      const lx = Math.min(Math.max(chartArea.left + 2, px - w / 2), chartArea.right - w - 2);
      ctx.textBaseline = 'bottom';
      ctx.fillText(label, lx, Math.max(chartArea.top + 28, py - 8));
      if (state.budgetBytes !== null) {
        const by = scales.y.getPixelForValue(state.budgetBytes);
        if (by >= chartArea.top && by <= chartArea.bottom) {
          ctx.setLineDash([6, 4]);
          ctx.strokeStyle = colors.budget;
          ctx.beginPath();
          ctx.moveTo(chartArea.left, by);
          ctx.lineTo(chartArea.right, by);
          ctx.stroke();
          ctx.fillStyle = colors.budget;
          ctx.font = '11px var(--vscode-font-family, sans-serif)';
          ctx.fillText(`budget ${state.budgetLabel ?? formatBytes(state.budgetBytes)}`, chartArea.left + 4, by - 2);
        }
      }
      ctx.restore();
    },
  };
}

export function drawTimeline(canvas: HTMLCanvasElement, state: PanelState, onPoint: (p: ChartPoint) => void): TimelineChart {
  const colors = themeColors();
  const datasets: ChartDataset<'line', XY[]>[] = state.categories.map((c, i) => {
    const color = categoryColor(c);
    return {
      label: state.categoryLabels[i],
      data: state.points.map((p) => ({ x: p.index, y: p.stack[i] })),
      borderColor: color,
      backgroundColor: withAlpha(color, 0.45),
      borderWidth: 1,
      pointRadius: 0,
      pointHitRadius: 4,
      fill: i === 0 ? 'origin' : '-1',
      stack: 'estimate',
      tension: 0,
      order: 2,
    };
  });
  if (state.measured) {
    datasets.push({
      label: state.measured.label,
      data: state.measured.points.map((p) => ({ x: p.index, y: p.bytes })),
      borderColor: colors.measured,
      backgroundColor: colors.measured,
      borderDash: [5, 3],
      borderWidth: 2,
      pointRadius: 0,
      fill: false,
      stack: 'measured',
      order: 1,
    });
  }
  datasets.push({
    label: `peak ${state.peak.bytesLabel}`,
    data: [{ x: state.peak.index, y: state.peak.bytes }],
    borderColor: colors.peak,
    backgroundColor: colors.peak,
    pointRadius: 6,
    pointHoverRadius: 8,
    pointStyle: 'triangle',
    showLine: false,
    stack: 'peak',
    order: 0,
  });
  const peakDataset = datasets.length - 1;

  const chart = new Chart<'line', XY[]>(canvas, {
    type: 'line',
    data: { datasets },
    plugins: [phasePlugin(state, colors), marksPlugin(state, colors)],
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      interaction: { mode: 'index', axis: 'x', intersect: false },
      scales: {
        x: {
          type: 'linear',
          min: 0,
          max: Math.max(1, state.totalSteps - 1),
          title: { display: true, text: 'execution order (step)', color: colors.muted },
          ticks: { color: colors.muted, precision: 0 },
          grid: { color: withAlpha(colors.grid, 0.4) },
        },
        y: {
          type: 'linear',
          stacked: true,
          beginAtZero: true,
          title: { display: true, text: 'live bytes', color: colors.muted },
          ticks: { color: colors.muted, callback: (v) => formatBytes(Number(v)) },
          grid: { color: withAlpha(colors.grid, 0.4) },
        },
      },
      plugins: {
        legend: { labels: { color: colors.foreground, boxWidth: 12 } },
        tooltip: {
          callbacks: {
            title: (items) => {
              const p = nearestPoint(state, items[0]?.parsed.x ?? 0);
              return p ? `${p.op} ${p.node} (${p.phase}, step ${p.index})` : '';
            },
            label: (item) => `${item.dataset.label}: ${formatBytes(item.parsed.y ?? 0)}`,
            footer: (items) => {
              const p = nearestPoint(state, items[0]?.parsed.x ?? 0);
              return p ? `total ${formatBytes(p.liveBytes)}${p.source ? ` · ${p.source.label} (click to open)` : ''}` : '';
            },
          },
        },
      },
      onClick: (_event, _elements, c) => {
        const e = _event.native as MouseEvent | null;
        if (!e) return;
        const x = c.scales.x.getValueForPixel(e.offsetX);
        if (x === undefined) return;
        const p = nearestPoint(state, x);
        if (p) onPoint(p);
      },
    },
  });

  return {
    destroy: () => chart.destroy(),
    peakPixel: () => {
      const el = chart.getDatasetMeta(peakDataset).data[0];
      return el ? { x: el.x, y: el.y } : null;
    },
  };
}

/** The drawn point closest to step `x`, preferring one with a source line. */
export function nearestPoint(state: PanelState, x: number): ChartPoint | undefined {
  let best: ChartPoint | undefined;
  for (const p of state.points) {
    if (!best || Math.abs(p.index - x) < Math.abs(best.index - x)) best = p;
  }
  return best;
}
