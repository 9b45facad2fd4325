// The timeline panel's script: handshake, render from the host's state, keep it across reloads.
import type { ChartPoint, HostMessage, PanelState, SourceLink } from '../protocol';
import { drawTimeline, type TimelineChart } from './chart';
import { settingsControls } from './controls';
import { liveTable } from './live-table';
import { onThemeChange } from './theme';
import { Host } from './host';
import './styles.css';

const app = document.getElementById('app')!;
let current: PanelState | null = null;
let chart: TimelineChart | undefined;

const host = new Host(receive);

function receive(m: HostMessage): void {
  switch (m.type) {
    case 'state':
      current = m.state;
      host.keep(current);
      render();
      return;
    case 'busy':
      setBusy(m.busy ? m.label : null);
      return;
    case 'error':
      setBusy(null);
      showError(m.message);
      return;
    case 'revealed':
      return;
  }
}

function reveal(source: SourceLink): void {
  host.send({ type: 'reveal', source });
}

function onPoint(p: ChartPoint): void {
  if (p.source) reveal(p.source);
}

function h(tag: string, cls?: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function setBusy(label: string | null): void {
  let bar = document.getElementById('busy');
  if (!label) {
    bar?.remove();
    return;
  }
  if (!bar) {
    bar = h('div', 'busy');
    bar.id = 'busy';
    bar.setAttribute('role', 'status');
    app.prepend(bar);
  }
  bar.textContent = `MemLens: ${label}…`;
}

function showError(message: string): void {
  document.getElementById('error')?.remove();
  const box = h('div', 'error', message);
  box.id = 'error';
  box.setAttribute('role', 'alert');
  app.prepend(box);
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
  const header = h('header');
  header.append(h('h1', undefined, s.title));
  const peak = h('p', 'peak-line');
  peak.id = 'peak-summary';
  peak.append(`Peak ${s.peak.bytesLabel} · ${s.peak.phase} · ${s.peak.op} ${s.peak.node}`);
  if (s.peak.source) {
    const source = s.peak.source;
    const a = h('a', 'source-link', ` · ${source.label}`);
    a.setAttribute('href', '#');
    a.dataset.line = String(source.line);
    a.addEventListener('click', (e) => {
      e.preventDefault();
      reveal(source);
    });
    peak.append(a);
  }
  header.append(peak);
  header.append(settingsControls(s.settings, (settings) => {
    setBusy('profiling');
    host.send({ type: 'reprofile', settings });
  }));
  app.append(header);

  const summary = h('dl', 'summary');
  for (const item of s.summary) summary.append(h('dt', undefined, item.label), h('dd', undefined, item.value));
  app.append(summary);

  const wrap = h('div', 'chart-wrap');
  const canvas = document.createElement('canvas');
  canvas.id = 'timeline';
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `Live memory over ${s.totalSteps} steps; peak ${s.peak.bytesLabel} at step ${s.peak.index}`);
  wrap.append(canvas);
  app.append(wrap);
  if (s.points.length < s.totalSteps) {
    app.append(h('p', 'note', `${s.totalSteps} steps drawn as ${s.points.length} points (largest of each stretch; the peak is kept).`));
  }
  chart = drawTimeline(canvas, s, onPoint);
  const px = chart.peakPixel();
  if (px) {
    canvas.dataset.peakX = String(Math.round(px.x));
    canvas.dataset.peakY = String(Math.round(px.y));
    canvas.dataset.peakIndex = String(s.peak.index);
  }

  app.append(h('h2', undefined, 'Live at the peak, by line'));
  app.append(liveTable(s.liveAtPeak, reveal));

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
host.send({ type: 'ready', restored: current });
