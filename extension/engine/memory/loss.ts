// The loss's share of a training step, when the script's loss is known to be cross-entropy
// (its backward node NllLossBackward0: F.cross_entropy is log_softmax then nll_loss). The graph
// ends at the logits; the loss runs after the forward:
// - log_softmax keeps its result, the log-probabilities (derivatives.yaml _log_softmax: self:
//   _log_softmax_backward_data(grad, result, dim, self.scalar_type())), from the loss's forward
//   to the loss's backward;
// - nll_loss_backward makes a dense gradient of the log-probabilities (zeros with the targets'
//   entries set), alive while _log_softmax_backward_data makes the logits' gradient from it.
// The logits themselves are not kept by the loss: once it is computed the script holds none.
import type { Buffer } from './buffer-types';
import type { Schedule } from './schedule';
import type { TensorTable } from './tensor-table';

export type LossKind = 'cross-entropy';

/** The graph output a recognised loss reads: the first float output that a node produces. */
export function lossInput(table: TensorTable): string | null {
  for (const t of table.tensors.values()) if (t.isGraphOutput && t.isFloat && t.producer !== null) return t.name;
  return null;
}

export function lossPass(table: TensorTable, schedule: Schedule, logits: string): Buffer[] {
  const rec = table.tensors.get(logits);
  const at = schedule.lossStep;
  if (!rec || rec.producer === null || at === null) return [];
  const owner = { kind: 'node' as const, pos: rec.producer };
  return [
    { bytes: rec.bytes, category: 'activations', start: schedule.lossForward, end: at, owner, persistent: false, kind: 'workspace', use: { kind: 'loss', item: 'log-probabilities' } },
    { bytes: rec.bytes, category: 'activations', start: at, end: at, owner, persistent: false, kind: 'workspace', use: { kind: 'loss', item: 'log-probability gradient' } },
  ];
}
