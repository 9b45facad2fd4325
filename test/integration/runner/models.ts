// Small real ONNX models for the runner tests, built as plain Models and encoded with encodeModel.
import type { AttributeValue, Graph, GraphNode, Initializer, Model, ValueInfo } from '../../../extension/engine/graph';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { encodeValues } from '../../../extension/engine/onnx/raw-data';
import { MEMLENS_FILE, MEMLENS_LINE } from '../../../extension/engine/metadata-keys';

function node(
  name: string, opType: string, inputs: string[], outputs: string[], attributes: Record<string, AttributeValue> = {}, line?: number,
): GraphNode {
  const metadata: Record<string, string> = line === undefined ? {} : { [MEMLENS_FILE]: 'model.ts', [MEMLENS_LINE]: String(line) };
  return { name, opType, domain: '', inputs, outputs, attributes, metadata };
}

function model(graph: Omit<Graph, 'valueInfo'>, opset = 17): Model {
  return { irVersion: 8, producer: 'memlens-test', opsets: { '': opset }, metadata: {}, graph: { ...graph, valueInfo: new Map() } };
}

function floats(n: number, seed: number): Uint8Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(seed + i) * 0.05;
  return new Uint8Array(a.buffer);
}

/**
 * x[batch, h] -> MatMul(W[h, h]) -> Add(b[h]) -> Relu -> Softmax -> y. Every intermediate is
 * batch*h*4 bytes. `weights: false` leaves W and b without bytes (external-data placeholders).
 * Nodes carry source lines model.ts:10-13.
 */
export function chainModel(h: number, weights = true, batchDim = 'batch'): Model {
  const w: Initializer = { name: 'W', dtype: 'float32', dims: [h, h], external: false };
  const b: Initializer = { name: 'b', dtype: 'float32', dims: [h], external: false };
  if (weights) {
    w.raw = floats(h * h, 1);
    b.raw = floats(h, 2);
  }
  const inputs: ValueInfo[] = [{ name: 'x', dtype: 'float32', shape: [batchDim, h] }];
  return model({
    name: 'chain',
    inputs,
    outputs: [{ name: 'y', dtype: 'float32', shape: [batchDim, h] }],
    initializers: new Map([['W', w], ['b', b]]),
    nodes: [
      node('matmul', 'MatMul', ['x', 'W'], ['h1'], {}, 10),
      node('add', 'Add', ['h1', 'b'], ['h2'], {}, 11),
      node('relu', 'Relu', ['h2'], ['h3'], {}, 12),
      node('softmax', 'Softmax', ['h3'], ['y'], { axis: { kind: 'int', value: -1 } }, 13),
    ],
  });
}

/** ids[batch, seq] -> Gather(table[vocab, d]) -> Mul(mask) -> y: fails in ORT when an id is out of range. */
export function embeddingModel(vocab: number, d: number): Model {
  return model({
    name: 'embedding',
    inputs: [
      { name: 'input_ids', dtype: 'int64', shape: ['batch', 'seq'] },
      { name: 'attention_mask', dtype: 'float32', shape: ['batch', 'seq', 1] },
    ],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 'seq', d] }],
    initializers: new Map([['table', { name: 'table', dtype: 'float32', dims: [vocab, d], raw: floats(vocab * d, 3), external: false }]]),
    nodes: [
      node('embed', 'Gather', ['table', 'input_ids'], ['e']),
      node('masked', 'Mul', ['e', 'attention_mask'], ['y']),
    ],
  });
}

const int64 = (name: string, values: number[], dims: number[]): Initializer => ({
  name, dtype: 'int64', dims, raw: encodeValues('int64', values), external: false,
});

/** A Loop whose trip count is 2^53 - 1: runs until it is stopped. */
export function endlessLoopModel(): Model {
  const body: Graph = {
    name: 'body',
    inputs: [
      { name: 'i', dtype: 'int64', shape: [] },
      { name: 'cond_in', dtype: 'bool', shape: [] },
      { name: 'v_in', dtype: 'float32', shape: [1] },
    ],
    outputs: [
      { name: 'cond_out', dtype: 'bool', shape: [] },
      { name: 'v_out', dtype: 'float32', shape: [1] },
    ],
    initializers: new Map(),
    valueInfo: new Map(),
    nodes: [node('keep_going', 'Identity', ['cond_in'], ['cond_out']), node('step', 'Add', ['v_in', 'v_in'], ['v_out'])],
  };
  return model({
    name: 'endless',
    inputs: [{ name: 'v', dtype: 'float32', shape: [1] }],
    outputs: [{ name: 'out', dtype: 'float32', shape: [1] }],
    initializers: new Map([
      ['trips', int64('trips', [Number.MAX_SAFE_INTEGER], [])],
      ['go', { name: 'go', dtype: 'bool', dims: [], raw: new Uint8Array([1]), external: false }],
    ]),
    nodes: [node('loop', 'Loop', ['trips', 'go', 'v'], ['out'], { body: { kind: 'graph', value: body } })],
  });
}

/** ConstantOfShape to `elements` float32 values: allocates (and touches) 4 bytes each. */
export function hugeAllocationModel(elements: number): Model {
  return model({
    name: 'huge',
    inputs: [{ name: 'x', dtype: 'float32', shape: [1] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
    initializers: new Map([
      ['shape', int64('shape', [elements], [1])],
      ['axes', int64('axes', [0], [1])],
    ]),
    nodes: [
      node('big', 'ConstantOfShape', ['shape'], ['t'], { value: { kind: 'tensor', value: { name: 'v', dtype: 'float32', dims: [1], raw: new Uint8Array(new Float32Array([1.5]).buffer), external: false } } }),
      node('total', 'ReduceSum', ['t', 'axes'], ['s']),
      node('out', 'Add', ['s', 'x'], ['y']),
    ],
  }, 18);
}

export const encode = encodeModel;

/** `layers` blocks of MatMul(W[h, h]) -> Add(b[h]) -> Relu on x[batch, h], then Softmax. */
export function mlpModel(layers: number, h: number): Model {
  const initializers = new Map<string, Initializer>();
  const nodes: GraphNode[] = [];
  let x = 'x';
  for (let l = 0; l < layers; l++) {
    initializers.set(`W${l}`, { name: `W${l}`, dtype: 'float32', dims: [h, h], raw: floats(h * h, 10 + l), external: false });
    initializers.set(`b${l}`, { name: `b${l}`, dtype: 'float32', dims: [h], raw: floats(h, 100 + l), external: false });
    nodes.push(node(`layer${l}.matmul`, 'MatMul', [x, `W${l}`], [`l${l}.mm`]));
    nodes.push(node(`layer${l}.add`, 'Add', [`l${l}.mm`, `b${l}`], [`l${l}.add`]));
    nodes.push(node(`layer${l}.relu`, 'Relu', [`l${l}.add`], [`l${l}.relu`]));
    x = `l${l}.relu`;
  }
  nodes.push(node('softmax', 'Softmax', [x], ['y'], { axis: { kind: 'int', value: -1 } }));
  return model({
    name: 'mlp',
    inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', h] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', h] }],
    initializers,
    nodes,
  });
}
