// The model card: what the file is (inputs and outputs with their dims, opsets, producer, nodes,
// file size), open by default in the .onnx summary.
import type { ModelCardView, TensorRow } from '../protocol';

function cell(tr: HTMLTableRowElement, text: string, cls?: string): void {
  const td = tr.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
}

function tensors(caption: string, rows: readonly TensorRow[]): HTMLTableElement {
  const table = document.createElement('table');
  table.className = 'tensors';
  table.createCaption().textContent = caption;
  const head = table.createTHead().insertRow();
  for (const h of ['Name', 'Type', 'Shape']) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    cell(tr, r.name, 'mono');
    cell(tr, r.dtype);
    cell(tr, r.dims === null ? 'rank unknown' : `[${r.dims.join(', ')}]`, 'mono');
  }
  return table;
}

export function modelCard(card: ModelCardView, open: boolean): HTMLElement {
  const details = document.createElement('details');
  details.className = 'card';
  details.id = 'model-card';
  details.open = open;
  const summary = document.createElement('summary');
  summary.textContent = 'Model';
  const facts = document.createElement('dl');
  facts.className = 'summary';
  const items: Array<[string, string]> = [
    ['Producer', card.producer], ['Opsets', card.opsets], ['Nodes', card.nodeCount.toLocaleString('en-US')],
    ...(card.fileSize ? [['File size', card.fileSize] as [string, string]] : []),
  ];
  for (const [k, v] of items) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    facts.append(dt, dd);
  }
  details.append(summary, facts, tensors(`Inputs (${card.inputs.length})`, card.inputs), tensors(`Outputs (${card.outputs.length})`, card.outputs));
  return details;
}
