// "Live at the peak": the lines holding the most memory at the peak; a row opens its line (click
// or Enter), Up and Down move between rows, and the focused row has VS Code's focus outline.
import type { LiveRow, SourceLink } from '../protocol';
import { formatShare } from '../../extension/engine/units';

function moveFocus(from: HTMLTableRowElement, delta: number): void {
  const rows = [...(from.parentElement?.querySelectorAll<HTMLTableRowElement>('tr.link') ?? [])];
  const next = rows[rows.indexOf(from) + delta];
  next?.focus();
}

export function liveTable(rows: LiveRow[], onOpen: (s: SourceLink) => void): HTMLElement {
  const table = document.createElement('table');
  table.className = 'live';
  const head = table.createTHead().insertRow();
  for (const h of ['Line', 'Scope', 'Live at peak', 'Share', 'Largest ops', 'Runs']) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    const cells = [r.label, r.scope, r.peakLabel, formatShare(r.share), r.ops, r.repeats > 1 ? `×${r.repeats}` : '1'];
    cells.forEach((text, i) => {
      const td = tr.insertCell();
      td.textContent = text;
      if (i === 2 || i === 3 || i === 5) td.className = 'num';
    });
    const bar = document.createElement('div');
    bar.className = 'share-bar';
    bar.style.width = `${Math.min(100, r.share * 100)}%`;
    tr.cells[3].append(bar);
    if (r.source) {
      const source = r.source;
      tr.tabIndex = 0;
      tr.className = 'link';
      tr.dataset.line = String(source.line);
      tr.title = `Open ${source.label}`;
      tr.addEventListener('click', () => onOpen(source));
      tr.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') onOpen(source);
        else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
          e.preventDefault();
          moveFocus(tr, e.key === 'ArrowDown' ? 1 : -1);
        }
      });
    }
  }
  return table;
}
