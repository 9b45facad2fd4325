// Training losses.
import { MemlensError } from '../../../extension/engine/errors';
import { formatShape } from './dims';
import { Tensor } from './tensor';
import { attr } from './trace-graph';

/**
 * Mean cross-entropy of logits [..., V] against integer labels [...] (torch's
 * F.cross_entropy over flattened positions), as one ONNX SoftmaxCrossEntropyLoss.
 */
export function crossEntropy(logits: Tensor, labels: Tensor, options: { ignoreIndex?: number } = {}): Tensor {
  if (labels.rank !== logits.rank - 1) {
    throw new MemlensError(`cross entropy: labels ${formatShape(labels.shape)} must have one dim fewer than logits ${formatShape(logits.shape)}`);
  }
  if (labels.dtype !== 'int64' && labels.dtype !== 'int32') throw new MemlensError(`cross entropy: labels must be integers, got ${labels.dtype}`);
  const v = logits.shape[logits.rank - 1];
  const flat = logits.rank === 2 ? logits : logits.reshape(-1, v);
  const target = labels.rank === 1 ? labels : labels.reshape(-1);
  const attributes: Record<string, ReturnType<typeof attr.int>> = { reduction: attr.string('mean') };
  if (options.ignoreIndex !== undefined) attributes.ignore_index = attr.int(options.ignoreIndex);
  return logits.graph.op('SoftmaxCrossEntropyLoss', [flat, target.to('int64')], { dtype: logits.dtype, shape: [] }, attributes);
}
