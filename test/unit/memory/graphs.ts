// Small graphs for the memory model's passes, with every figure derivable by hand, and the
// tensor table the passes read (built as analyze() builds it).
import type { Model } from '../../../extension/engine/graph';
import { executionOrder } from '../../../extension/engine/graph-order';
import { buildTensorTable, type TensorTable } from '../../../extension/engine/memory/tensor-table';
import { CHECKPOINT_KEY, OFFLOAD_KEY } from '../../../extension/engine/metadata-keys';
import { withDefaults, type AnalysisSettings } from '../../../extension/engine/settings';
import { bindDims } from '../../../extension/engine/shapes/bind-dims';
import { inferShapes } from '../../../extension/engine/shapes/infer';
import type { InferredTensor } from '../../../extension/engine/shapes/types';
import { GraphBuilder, int } from '../../fixtures/graph-builder';

export interface Tabled {
  table: TensorTable;
  shapes: Map<string, InferredTensor>;
  settings: AnalysisSettings;
}

export function tabled(model: Model, partial: Partial<AnalysisSettings> = {}): Tabled {
  const settings = withDefaults(partial);
  const shapes = inferShapes(model, bindDims(model, settings).dims).tensors;
  return { table: buildTensorTable(model, executionOrder(model.graph), shapes, settings), shapes, settings };
}

/**
 * x[2,4] -> fc1 MatMul W1[4,8] -> h -> relu -> r -> fc2 MatMul W2[8,3] -> y -> sum ReduceSum -> loss.
 * Positions: fc1 0, relu 1, fc2 2, sum 3. fp32 bytes: x 32, W1 128, h 64, r 64, W2 96, y 24, loss 4.
 * `region` marks fc1, relu and fc2 as one checkpointed or offloaded region.
 */
export function mlpWithLoss(region: 'none' | 'checkpoint' | 'offload' = 'none'): Model {
  const b = new GraphBuilder();
  const meta: Record<string, string> = region === 'checkpoint' ? { [CHECKPOINT_KEY]: 'ckpt:a' } : region === 'offload' ? { [OFFLOAD_KEY]: 'offload:a' } : {};
  b.input('x', 'float32', [2, 4]);
  b.op('MatMul', ['x', b.weight('W1', [4, 8])], { name: 'fc1', outputs: ['h'], metadata: { ...meta } });
  b.op('Relu', ['h'], { name: 'relu', outputs: ['r'], metadata: { ...meta } });
  b.op('MatMul', ['r', b.weight('W2', [8, 3])], { name: 'fc2', outputs: ['y'], metadata: { ...meta } });
  b.op('ReduceSum', ['y'], { name: 'sum', outputs: ['loss'], attrs: { keepdims: int(0) } });
  b.output('loss', 'float32', []);
  return b.model(13);
}
