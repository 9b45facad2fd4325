// Tensors stored in the model file rather than computed: initializers and Constant values,
// in the main graph and inside If/Loop/Scan bodies. ONNX Runtime holds every body's
// initializers (Constants become initializers when the session loads) for the session's
// lifetime, whichever branch runs, so all of them count as weight bytes.
import { dtypeBits, elementCount, nodeBodies, type Graph, type GraphNode, type Initializer } from '../graph';

/**
 * ONNX Runtime uses a stored tensor of more than this many bytes in place (in-memory external data,
 * `kSmallTensorExternalDataThreshold` in tensorprotoutils.h) and copies smaller ones into its
 * arena when the session loads, so those count in `mem_bytes_requested_in_use` for every run.
 */
export const ORT_SMALL_TENSOR_BYTES = 127;

/** Where a stored tensor of these bytes sits: beside the arena (`weights`) or inside it (`other`). */
export function storedCategory(bytes: number): 'weights' | 'other' {
  return bytes > ORT_SMALL_TENSOR_BYTES ? 'weights' : 'other';
}

export interface StoredTensor {
  /** Unique within the model: `<control-flow node>/<body graph>/<name>`. */
  key: string;
  name: string;
  dtype: Initializer['dtype'];
  elements: number;
  bytes: number;
  /** Every element has the same value (a zero initial state, a fill): not a learned parameter. */
  fill: boolean;
  /** A Constant node's value rather than an initializer. */
  constant: boolean;
}

/** Whether all elements of a tensor hold one value; false when the data is not here to tell. */
export function isFill(t: Initializer): boolean {
  const n = elementCount(t.dims);
  if (n === null || n <= 1) return n === 1;
  if (t.values) return t.values.every((v) => v === t.values![0]);
  if (!t.raw) return false;
  const width = Math.max(1, dtypeBits(t.dtype) / 8);
  if (!Number.isInteger(width) || t.raw.length !== n * width) return false;
  for (let i = width; i < t.raw.length; i++) if (t.raw[i] !== t.raw[i % width]) return false;
  return true;
}

function stored(prefix: string, t: Initializer, constant: boolean): StoredTensor {
  const elements = elementCount(t.dims) ?? 0;
  return {
    key: `${prefix}/${t.name}`, name: t.name, dtype: t.dtype, elements,
    bytes: Math.ceil((elements * dtypeBits(t.dtype)) / 8), fill: isFill(t), constant,
  };
}

function collect(g: Graph, prefix: string, out: StoredTensor[]): void {
  for (const init of g.initializers.values()) out.push(stored(prefix, init, false));
  for (const n of g.nodes) {
    const value = n.attributes.value;
    if (n.opType === 'Constant' && value?.kind === 'tensor') out.push(stored(prefix, { ...value.value, name: n.outputs[0] ?? n.name }, true));
    for (const body of nodeBodies(n)) collect(body, `${prefix}/${n.name}/${body.name}`, out);
  }
}

/** The stored tensors of every body of one control-flow node, nested bodies included. */
export function bodyStoredTensors(node: GraphNode): StoredTensor[] {
  const out: StoredTensor[] = [];
  for (const body of nodeBodies(node)) collect(body, `${node.name}/${body.name}`, out);
  return out;
}
