// Test-local builders for small models, and a one-node runner through the real inference driver.
import type { AttributeValue, DType, Dim, Graph, GraphNode, Initializer, Model, TensorType, ValueInfo } from '../../../extension/engine/graph';
import { inferShapes } from '../../../extension/engine/shapes/infer';
import type { InferredTensor, ShapeResult } from '../../../extension/engine/shapes/types';

export const a = {
  int: (value: number): AttributeValue => ({ kind: 'int', value }),
  ints: (value: number[]): AttributeValue => ({ kind: 'ints', value }),
  float: (value: number): AttributeValue => ({ kind: 'float', value }),
  floats: (value: number[]): AttributeValue => ({ kind: 'floats', value }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
  tensor: (value: Initializer): AttributeValue => ({ kind: 'tensor', value }),
  graph: (value: Graph): AttributeValue => ({ kind: 'graph', value }),
};

export function vi(name: string, dtype: DType, shape: Dim[] | null): ValueInfo {
  return { name, dtype, shape };
}

export function init(name: string, dtype: DType, dims: number[], values?: number[]): Initializer {
  return values ? { name, dtype, dims, values, external: false } : { name, dtype, dims, external: false };
}

export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, AttributeValue> = {},
  domain = '',
  name = `${opType}_${outputs[0] ?? 'x'}`,
): GraphNode {
  return { name, opType, domain, inputs, outputs, attributes, metadata: {} };
}

export interface GraphSpec {
  name?: string;
  inputs?: ValueInfo[];
  outputs?: ValueInfo[];
  nodes: GraphNode[];
  initializers?: Initializer[];
  valueInfo?: ValueInfo[];
}

export function graph(spec: GraphSpec): Graph {
  return {
    name: spec.name ?? 'g',
    nodes: spec.nodes,
    inputs: spec.inputs ?? [],
    outputs: spec.outputs ?? [],
    initializers: new Map((spec.initializers ?? []).map((i) => [i.name, i])),
    valueInfo: new Map<string, TensorType>((spec.valueInfo ?? []).map((v) => [v.name, { dtype: v.dtype, shape: v.shape }])),
  };
}

export function model(spec: GraphSpec, opsets: Record<string, number> = { '': 17, 'com.microsoft': 1 }): Model {
  return { irVersion: 8, producer: 'test', opsets, graph: graph(spec), metadata: {} };
}

/** An operand of `run`: a graph input (no value) or, with a value, an initializer. */
export interface Operand { dtype: DType; shape: Dim[] | null; value?: number[] }

export const t = (dtype: DType, shape: Dim[] | null, value?: number[]): Operand => ({ dtype, shape, value });
export const f32 = (...shape: Dim[]): Operand => t('float32', shape);
export const i64 = (...value: number[]): Operand => t('int64', [value.length], value);
export const scalar = (v: number, dtype: DType = 'int64'): Operand => t(dtype, [], [v]);

export interface RunOptions {
  opset?: number;
  domain?: string;
  outputs?: number;
  dims?: Record<string, number>;
}

/** Runs one node through inferShapes; null operands are omitted optional inputs. */
export function run(
  opType: string,
  operands: (Operand | null)[],
  attributes: Record<string, AttributeValue> = {},
  options: RunOptions = {},
): InferredTensor[] {
  const inputs: ValueInfo[] = [];
  const initializers: Initializer[] = [];
  const names = operands.map((o, i) => {
    if (!o) return '';
    const name = `in${i}`;
    if (o.value && o.shape && o.shape.every((d) => typeof d === 'number')) {
      initializers.push(init(name, o.dtype, o.shape, o.value));
    } else inputs.push(vi(name, o.dtype, o.shape));
    return name;
  });
  const outs = Array.from({ length: options.outputs ?? 1 }, (_v, i) => `out${i}`);
  const domain = options.domain ?? '';
  const m = model(
    { inputs, initializers, nodes: [node(opType, names, outs, attributes, domain)] },
    { '': options.opset ?? 17, 'com.microsoft': 1, ...(domain && domain !== 'com.microsoft' ? { [domain]: 1 } : {}) },
  );
  const r = inferShapes(m, options.dims ?? {});
  return outs.map((o) => r.tensors.get(o)!);
}

/** Shape of the one output of a node. */
export function shape1(opType: string, operands: (Operand | null)[], attributes: Record<string, AttributeValue> = {}, options: RunOptions = {}): Dim[] | null {
  return run(opType, operands, attributes, options)[0].shape;
}

export function tensorOf(r: ShapeResult, name: string): InferredTensor {
  const x = r.tensors.get(name);
  if (!x) throw new Error(`no tensor ${name}`);
  return x;
}
