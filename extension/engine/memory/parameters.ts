// Which weights are parameters and which of them train: the pass every training pass starts from.
import type { BufferOptions } from './buffer-types';
import type { TensorRecord, TensorTable } from './tensor-table';

export interface Parameters {
  /** Float main-graph parameters that get a gradient and optimizer state. */
  trainable: Set<string>;
  /** Elements of all parameters (trainable or frozen), and of the trainable ones. */
  count: number;
  trainableCount: number;
}

/** BatchNormalization's running mean and variance: statistics, not parameters that train. */
const BN_STAT_INPUTS = new Set([3, 4]);

/** Index, shape and text data: stored, but never a parameter. */
const NON_PARAMETER_DTYPES = new Set(['int64', 'uint64', 'bool', 'string', 'undefined']);

/**
 * Whether a stored tensor counts as a model parameter (trainable or frozen): an initializer of any
 * numeric dtype but int64 (uint8 quantised weights, their int32 biases and scales count), or a
 * Constant of more than one element that is not a fill (an LSTM's zero initial state is not).
 */
function isParameter(t: TensorRecord, parameters: Set<string> | null | undefined): boolean {
  if (!t.isWeight || NON_PARAMETER_DTYPES.has(t.dtype)) return false;
  if (t.isConstant && (t.elements <= 1 || t.isFill)) return false;
  return parameters ? parameters.has(t.name) : true;
}

/**
 * Float parameters that are not BatchNorm running statistics, not frozen, read by some node, and
 * in the main graph (the backward pass is built for the main graph; body weights stay frozen).
 */
function trainableParams(table: TensorTable, options: BufferOptions): Set<string> {
  const stats = new Set<string>();
  for (const n of table.nodes) {
    if (n.opType !== 'BatchNormalization') continue;
    n.inputs.forEach((x, i) => BN_STAT_INPUTS.has(i) && x && stats.add(x));
  }
  const out = new Set<string>();
  for (const t of table.tensors.values()) {
    if (isParameter(t, options.parameters) && t.isFloat && !t.inSubgraph && !stats.has(t.name) && !options.frozen.has(t.name) && t.consumers.length > 0) out.add(t.name);
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
