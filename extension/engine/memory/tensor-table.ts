// Every tensor of the graph with its size under the analysis settings, its producer, its
// consumers in execution order, and its category. The one place where bytes are decided.
import type { GraphNode, Model } from '../graph';
import { dtypeBits, elementCount } from '../graph';
import type { Category } from '../profile';
import type { AnalysisSettings } from '../settings';
import type { InferredTensor } from '../shapes/types';
import { isKvName, KV_KEY } from './kv';
import { bodyStoredTensors, isFill, storedCategory } from './stored-tensors';

export interface TensorRecord {
  name: string;
  /** Bytes under the settings (fp32 tensors at the compute dtype); 0 when unknown. */
  bytes: number;
  known: boolean;
  elements: number;
  /** Position in execution order of the producer; null for graph inputs, initializers and Constant outputs (held for the whole run). */
  producer: number | null;
  /** Positions in execution order of consuming nodes, ascending. */
  consumers: number[];
  category: Category;
  isInitializer: boolean;
  /**
   * A weight: a tensor stored in the model, an initializer or a Constant node's value, of any dtype
   * (ONNX Runtime turns Constants into initializers and holds them all for the session).
   */
  isWeight: boolean;
  /** A Constant node's value (paddle2onnx and torch's quantised exports store weights that way). */
  isConstant: boolean;
  /** Every element has the same value (a zero initial state): stored, but not a learned parameter. */
  isFill: boolean;
  /** Stored inside an If/Loop/Scan body; `name` is then `<node>/<body>/<tensor>`. */
  inSubgraph: boolean;
  dtype: InferredTensor['dtype'];
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

/** Elements a value stores: a sequence holds `length` elements of its element shape. */
function storedElements(t: InferredTensor): number | null {
  if (!t.sequence) return elementCount(t.shape);
  const { length } = t.sequence;
  if (length === 0) return 0;
  const each = elementCount(t.shape);
  return typeof length === 'number' && each !== null ? length * each : null;
}

/** Records `pos` as a consumer of each distinct input once (a node may read a tensor twice; it has a few inputs). */
function addConsumer(tensors: Map<string, TensorRecord>, inputs: string[], pos: number): void {
  for (let i = 0; i < inputs.length; i++) {
    const name = inputs[i];
    if (!name || inputs.indexOf(name) < i) continue;
    tensors.get(name)?.consumers.push(pos);
  }
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

  const add = (name: string, producer: number | null, category: Category, isInitializer: boolean, constant: GraphNode | null = null) => {
    const t = shapes.get(name);
    const elements = t ? storedElements(t) : null;
    const isFloat = t !== undefined && FLOAT_TYPES.has(t.dtype);
    const isConstant = constant !== null;
    const isWeight = isInitializer || isConstant;
    const value = constant?.attributes.value;
    const init = isInitializer ? g.initializers.get(name) : value?.kind === 'tensor' ? value.value : undefined;
    const known = elements !== null && t !== undefined && t.dtype !== 'undefined';
    if (!known) unknown++;
    const bits = t ? effectiveBits(t.dtype, settings) : 0;
    const bytes = known ? Math.ceil((elements * bits) / 8) : 0;
    if (isWeight && known) category = storedCategory(bytes);
    tensors.set(name, {
      name,
      bytes,
      known,
      elements: elements ?? 0,
      producer,
      consumers: [],
      category,
      isInitializer,
      isWeight,
      isConstant,
      isFill: init !== undefined && isFill(init),
      inSubgraph: false,
      dtype: t?.dtype ?? 'undefined',
      isGraphOutput: outputs.has(name),
      isFloat,
    });
  };

  for (const name of g.initializers.keys()) add(name, null, 'weights', true);
  for (const v of g.inputs) add(v.name, null, isKvName(v.name) ? 'kvCache' : 'inputs', false);
  nodes.forEach((node, pos) => {
    // `memlens.kv` names each output's role (`key`, `value` or empty), comma-separated per output.
    const kvRoles = node.metadata[KV_KEY]?.split(',');
    node.outputs.forEach((o, i) => {
      const kvTagged = kvRoles !== undefined && (kvRoles.length === 1 ? i === 0 : (kvRoles[i] ?? '') !== '');
      if (!o || tensors.has(o)) return;
      // Constants are held by the session for the whole run, like initializers.
      if (node.opType === 'Constant') {
        add(o, null, 'other', false, node);
        return;
      }
      const category: Category =
        kvTagged || (outputs.has(o) && isKvName(o)) ? 'kvCache'
        : outputs.has(o) ? 'outputs'
        : 'activations';
      add(o, pos, category, false);
    });
  });
  nodes.forEach((node, pos) => {
    addConsumer(tensors, node.inputs, pos);
    for (const b of bodyStoredTensors(node)) {
      const bytes = Math.ceil((b.elements * effectiveBits(b.dtype, settings)) / 8);
      tensors.set(b.key, {
        name: b.key, bytes, known: true, elements: b.elements, producer: null, consumers: [pos], category: storedCategory(bytes),
        isInitializer: !b.constant, isWeight: true, isConstant: b.constant, isFill: b.fill, inSubgraph: true, dtype: b.dtype,
        isGraphOutput: false, isFloat: FLOAT_TYPES.has(b.dtype),
      });
    }
  });
  return { tensors, nodes, unknown };
}
