// The model card as the ONNX summary shows it: dims as `batch=1`, opsets as `ai.onnx 17`, the
// file size in binary units and in bytes.
import type { CardDim, CardTensor, ModelCard } from '../analysis/model-card';
import { formatBytes } from '../engine/units';
import type { ModelCardView, TensorRow } from '../../webview/protocol';

export function dimText(d: CardDim): string {
  switch (d.kind) {
    case 'fixed': return String(d.size);
    case 'unknown': return '?';
    case 'symbolic': return d.bound === null ? d.name : `${d.name}=${d.bound}`;
  }
}

function row(t: CardTensor): TensorRow {
  return { name: t.name, dtype: t.dtype, dims: t.dims === null ? null : t.dims.map(dimText) };
}

export function modelCardView(card: ModelCard): ModelCardView {
  return {
    inputs: card.inputs.map(row),
    outputs: card.outputs.map(row),
    opsets: card.opsets.map((o) => `${o.domain === '' ? 'ai.onnx' : o.domain} ${o.version}`).join(', '),
    producer: card.producer || '(not recorded)',
    nodeCount: card.nodeCount,
    fileSize: card.fileBytes === null ? null : `${formatBytes(card.fileBytes)} (${card.fileBytes.toLocaleString('en-US')} bytes)`,
  };
}
