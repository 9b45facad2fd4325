// Which weights are parameters and which of them train: the pass every training pass starts from.
import type { BufferOptions } from './buffer-types';
import type { TensorRecord, TensorTable } from './tensor-table';

export interface Parameters {
  /** Float parameters that get a gradient and optimizer state. */
  trainable: Set<string>;
  /** Elements of all parameters (trainable or frozen), and of the trainable ones. */
  count: number;
  trainableCount: number;
}

/** BatchNormalization's running mean and variance: statistics, not parameters that train. */
const BN_STAT_INPUTS = new Set([3, 4]);

/** Whether a tensor counts as a model parameter (trainable or frozen). */
function isParameter(t: TensorRecord, parameters: Set<string> | null | undefined): boolean {
  return t.isWeight && t.isFloat && (parameters ? parameters.has(t.name) : true);
}

/** Float parameters that are not BatchNorm running statistics, not frozen, and read by some node. */
function trainableParams(table: TensorTable, options: BufferOptions): Set<string> {
  const stats = new Set<string>();
  for (const n of table.nodes) {
    if (n.opType !== 'BatchNormalization') continue;
    n.inputs.forEach((x, i) => BN_STAT_INPUTS.has(i) && x && stats.add(x));
  }
  const out = new Set<string>();
  for (const t of table.tensors.values()) {
    if (isParameter(t, options.parameters) && !stats.has(t.name) && !options.frozen.has(t.name) && t.consumers.length > 0) out.add(t.name);
  }
  return out;
}

export function parameterPass(table: TensorTable, options: BufferOptions): Parameters {
  const trainable = trainableParams(table, options);
  let count = 0, trainableCount = 0;
  for (const t of table.tensors.values()) {
    if (!isParameter(t, options.parameters)) continue;
    count += t.elements;
    if (trainable.has(t.name)) trainableCount += t.elements;
  }
  return { trainable, count, trainableCount };
}
