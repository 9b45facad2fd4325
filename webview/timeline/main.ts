// The timeline panel's script: the ready handshake, rendering from the host's state, requests
// with their responses, and the state kept across reloads.
import type { AnalysedSettings, ChartPoint, NotificationMessage, PanelSettings, PanelState, SourceLink } from '../protocol';
import { modelCard } from './card';
import { drawTimeline, type LegendEntry, type TimelineChart } from './chart';
import { settingsControls } from './controls';
import { formatBytes } from '../../extension/engine/units';
import { liveTable } from './live-table';
import type { MarkGeometry } from './marks';
import type { ByteAxis } from './scale';
import { onThemeChange } from './theme';
import { Host } from './host';
import './styles.css';

const app = document.getElementById('app')!;
const statusBox = document.getElementById('status')!;
let current: PanelState | null = null;
/** Whether `current` came from the host (rather than from before a reload). */
let fromHost = false;
let chart: TimelineChart | undefined;
/** Fit the byte axis to the curve (the user can turn it off). */
let fit = true;

const host = new Host(receive);

function receive(m: NotificationMessage): void {
  switch (m.method) {
    case 'state': return show(m.state);
    case 'busy': return setStatus('busy', `MemLens: ${m.label}…`);
    case 'error': return setStatus('error', m.message);
  }
}

function show(state: PanelState | null): void {
  fromHost = true;
  current = state;
  host.keep(state);
  setStatus(null);
  render();
}

function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** One line above the panel: what MemLens is doing, what failed, or why a request was refused. */
function setStatus(kind: 'busy' | 'error' | 'notice' | null, text = ''): void {
  statusBox.replaceChildren();
  if (!kind) return;
  const line = h('div', kind === 'busy' ? 'busy' : 'error', text);
  line.id = kind === 'busy' ? 'busy' : 'error';
  line.setAttribute('role', kind === 'busy' ? 'status' : 'alert');
  statusBox.append(line);
}

async function reveal(source: SourceLink): Promise<void> {
  const r = await host.request('reveal', { source: { file: source.file, line: source.line } });
  if (!r.ok) setStatus('notice', `MemLens: ${r.reason}`);
}

async function applySettings(settings: PanelSettings): Promise<void> {
  setStatus('busy', 'MemLens: profiling…');
  const r = await host.request('applySettings', { settings });
  if (!r.ok) setStatus('error', r.reason);
}

async function measure(): Promise<void> {
  setStatus('busy', 'MemLens: running on ONNX Runtime…');
  const r = await host.request('measure', {});
  if (!r.ok) setStatus('error', r.reason);
}

export function analysedText(a: AnalysedSettings): string {
  return [
    a.mode === 'train' ? 'training' : 'inference',
    ...(a.batch !== null ? [`batch ${a.batch}`] : []),
    ...(a.seq !== null ? [`seq ${a.seq}`] : []),
    a.dtype,
    ...(a.optimizer !== null ? [a.optimizer] : []),
  ].join(' · ');
}

function header(s: PanelState): HTMLElement {
  const head = h('header');
  head.append(h('h1', undefined, s.title));
  const peak = h('p', 'peak-line');
  peak.id = 'peak-summary';
  peak.append(`Peak ${s.peak.bytesLabel} · ${s.peak.phase} · ${s.peak.op} ${s.peak.node}`);
  if (s.peak.source) peak.append(' · ', sourceLink(s.peak.source));
  const analysed = h('p', 'analysed', `Analysed: ${analysedText(s.analysed)}${fromHost ? '' : ' (from before the reload)'}`);
  analysed.id = 'analysed';
  head.append(peak, analysed);
  if (s.comparison) head.append(fixBanner(s));
  head.append(settingsControls(s.controls, s.canMeasure, { apply: (v) => void applySettings(v), measure: () => void measure() }));
  return head;
}

function sourceLink(source: SourceLink): HTMLElement {
  const a = h('a', 'source-link', source.label);
  a.href = '#';
  a.dataset.line = String(source.line);
  a.addEventListener('click', (e) => {
    e.preventDefault();
    void reveal(source);
  });
  return a;
}

function fixBanner(s: PanelState): HTMLElement {
  const f = s.comparison!;
  const box = h('div', 'fix-banner');
  box.id = 'fix-compare';
  box.setAttribute('role', 'status');
  box.append(`Applied ${f.action}`);
  if (f.at) box.append(' at ', sourceLink(f.at));
  box.append(': peak ');
  box.append(h('strong', undefined, `${f.beforeLabel} → ${f.afterLabel}`));
  box.append(` (${f.beforePeakBytes > s.peak.bytes ? '−' : '+'}${formatBytes(Math.abs(f.beforePeakBytes - s.peak.bytes))}); the dotted curve is the profile before it. `);
  const hide = h('button', 'link-button', 'Hide the previous curve');
  hide.type = 'button';
  hide.addEventListener('click', () => void host.request('hideComparison', {}));
  box.append(hide);
  return box;
}

function legend(entries: LegendEntry[], onToggle: (i: number) => void): HTMLElement {
  const bar = h('div', 'legend');
  bar.setAttribute('role', 'group');
  bar.setAttribute('aria-label', 'Datasets: press to hide or show');
  for (const e of entries) {
    const b = h('button', 'legend-item');
    b.type = 'button';
    b.dataset.dataset = String(e.index);
    b.setAttribute('aria-pressed', String(e.visible));
    const swatch = h('span', 'swatch');
    swatch.style.background = e.color;
    b.append(swatch, e.label);
    b.addEventListener('click', () => onToggle(e.index));
    bar.append(b);
  }
  return bar;
}

function exposeAxis(canvas: HTMLCanvasElement, axis: ByteAxis, marks: MarkGeometry): void {
  const d = canvas.dataset;
  d.yMin = String(axis.min);
  d.yMax = String(axis.max);
  d.yStep = String(axis.step);
  d.yTicks = JSON.stringify(axis.ticks);
  d.yFitted = String(axis.fitted);
  const box = (b: { x: number; y: number; w: number; h: number } | null) => (b ? [b.x, b.y, b.w, b.h].map(Math.round).join(',') : '');
  if (marks.peak) {
    d.peakX = String(Math.round(marks.peak.x));
    d.peakY = String(Math.round(marks.peak.y));
  }
  d.peakLabel = box(marks.peakLabel);
  d.fixLabel = box(marks.fixLabel);
}

function cursorText(p: ChartPoint | null, s: PanelState): string {
  if (!p) return 'Focus the chart and use the arrow keys to move across the steps (Home, End, P for the peak); Enter opens the line.';
  const where = p.source ? ` · ${p.source.label} (Enter opens it)` : '';
  return `Step ${p.index} of ${s.totalSteps}: ${p.op} ${p.node} (${p.phase}), ${formatBytes(p.liveBytes)} live${where}`;
}

function chartSection(s: PanelState): HTMLElement {
  const section = h('section', 'chart-section');
  const toolbar = h('div', 'chart-toolbar');
  const fitBox = h('label', 'fit-toggle');
  const check = h('input');
  check.type = 'checkbox';
  check.id = 'fit-axis';
  check.checked = fit;
  fitBox.append(check, ' Fit the axis to the curve');
  const wrap = h('div', 'chart-wrap');
  const canvas = h('canvas');
  canvas.id = 'timeline';
  canvas.tabIndex = 0;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-roledescription', 'chart');
  canvas.setAttribute('aria-label', `Live memory over ${s.totalSteps} steps; peak ${s.peak.bytesLabel} at step ${s.peak.index}. Arrow keys move across the steps.`);
  canvas.dataset.peakIndex = String(s.peak.index);
  wrap.append(canvas);
  const live = h('p', 'chart-cursor', cursorText(null, s));
  live.id = 'chart-cursor';
  live.setAttribute('aria-live', 'polite');
  section.append(toolbar, wrap, live);
  if (s.points.length < s.totalSteps) {
    section.append(h('p', 'note', `${s.totalSteps} steps drawn as ${s.points.length} points (largest of each stretch; the peak is kept).`));
  }
  app.append(section);
  const c = drawTimeline(canvas, s, fit, {
    reveal: (source) => void reveal(source),
    cursor: (p) => {
      live.textContent = cursorText(p, s);
      canvas.dataset.cursorIndex = p ? String(p.index) : '';
    },
    axis: (axis, marks) => exposeAxis(canvas, axis, marks),
  });
  chart = c;
  const drawLegend = () => toolbar.replaceChildren(legend(c.legend(), (i) => {
    c.toggle(i);
    drawLegend();
  }), fitBox);
  drawLegend();
  check.addEventListener('change', () => {
    fit = check.checked;
    c.setFit(fit);
  });
  return section;
}

function render(): void {
  chart?.destroy();
  chart = undefined;
  app.replaceChildren();
  const s = current;
  if (!s) {
    app.append(h('p', 'placeholder', 'No profile yet: profile the model (MemLens: Profile Current Model).'));
    return;
  }
  app.dataset.profileId = String(s.profileId);
  app.append(header(s));
  const summary = h('dl', 'summary');
  for (const item of s.summary) summary.append(h('dt', undefined, item.label), h('dd', undefined, item.value));
  app.append(summary);
  chartSection(s);
  if (s.card) app.append(modelCard(s.card, s.kind === 'onnx'));
  app.append(h('h2', undefined, 'Live at the peak, by line'));
  app.append(liveTable(s.liveAtPeak, (source) => void reveal(source)));
  if (s.warnings.length > 0) {
    const details = h('details', 'warnings');
    details.append(h('summary', undefined, `${s.warnings.length} warning${s.warnings.length === 1 ? '' : 's'}`));
    const list = h('ul');
    for (const w of s.warnings) list.append(h('li', undefined, w));
    details.append(list);
    app.append(details);
  }
}

onThemeChange(() => {
  if (current) render();
});

current = host.restored();
if (current) render();
void host.request('ready', {}).then((r) => {
  if (!r.ok) return setStatus('error', r.reason);
  // null: nothing from the host yet (a busy or error line may follow); a copy restored from
  // before a reload stays until a profile comes.
  if (r.state) show(r.state);
  else if (!current) render();
});
