// Every tensor of the graph with its size under the analysis settings, its producer, its
// consumers in execution order, and its category. The one place where bytes are decided.
import type { GraphNode, Model } from '../graph';
import { dtypeBits, elementCount } from '../graph';
import type { Category } from '../profile';
import type { AnalysisSettings } from '../settings';
import type { InferredTensor } from '../shapes/types';
import { isKvName, KV_KEY } from './kv';

export interface TensorRecord {
  name: string;
  /** Bytes under the settings (fp32 tensors at the compute dtype); 0 when unknown. */
  bytes: number;
  known: boolean;
  elements: number;
  /** Position in execution order of the producer; -1 for graph inputs and initializers. */
  producer: number;
  /** Positions in execution order of consuming nodes, ascending. */
  consumers: number[];
  category: Category;
  isInitializer: boolean;
  isGraphOutput: boolean;
  isFloat: boolean;
}

export interface TensorTable {
  tensors: Map<string, TensorRecord>;
  /** Nodes in execution order. */
  nodes: GraphNode[];
  unknown: number;
}

const FLOAT_TYPES = new Set(['float32', 'float16', 'bfloat16', 'float64']);

/** Bytes per element after applying the compute dtype: fp32 tensors take the requested precision. */
export function effectiveBits(dtype: InferredTensor['dtype'], settings: AnalysisSettings): number {
  if (dtype === 'float32' && settings.dtype !== 'fp32') return 16;
  return dtypeBits(dtype);
}

export function buildTensorTable(
  model: Model,
  order: number[],
  shapes: Map<string, InferredTensor>,
  settings: AnalysisSettings,
): TensorTable {
  const g = model.graph;
  const nodes = order.map((i) => g.nodes[i]);
  const tensors = new Map<string, TensorRecord>();
  const outputs = new Set(g.outputs.map((o) => o.name));
  let unknown = 0;

  const add = (name: string, producer: number, category: Category, isInitializer: boolean) => {
    const t = shapes.get(name);
    const elements = t ? elementCount(t.shape) : null;
    const known = elements !== null && t !== undefined && t.dtype !== 'undefined';
    if (!known) unknown++;
    const bits = t ? effectiveBits(t.dtype, settings) : 0;
    tensors.set(name, {
      name,
      bytes: known ? Math.ceil(((elements as number) * bits) / 8) : 0,
      known,
      elements: elements ?? 0,
      producer,
      consumers: [],
      category,
      isInitializer,
      isGraphOutput: outputs.has(name),
      isFloat: t !== undefined && FLOAT_TYPES.has(t.dtype),
    });
  };

  for (const name of g.initializers.keys()) add(name, -1, 'weights', true);
  for (const v of g.inputs) add(v.name, -1, isKvName(v.name) ? 'kvCache' : 'inputs', false);
  nodes.forEach((node, pos) => {
    const kvTagged = node.metadata[KV_KEY] !== undefined;
    for (const o of node.outputs) {
      if (!o || tensors.has(o)) continue;
      const category: Category =
        kvTagged || (outputs.has(o) && isKvName(o)) ? 'kvCache'
        : outputs.has(o) ? 'outputs'
        : node.opType === 'Constant' ? 'other'
        : 'activations';
      add(o, pos, category, false);
    }
  });
  nodes.forEach((node, pos) => {
    for (const name of new Set(node.inputs)) {
      const rec = name ? tensors.get(name) : undefined;
      if (rec) rec.consumers.push(pos);
    }
  });
  return { tensors, nodes, unknown };
}
