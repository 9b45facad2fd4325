// Inputs for a run, built from the graph's declared input types: symbolic dims bound from the
// request, ids that stay inside the embedding table they index, masks of ones, zeros for other
// integers and seeded random floats.
import type { DType, Graph, Model, ValueInfo } from '../engine/graph';
import { dtypeBits } from '../engine/graph';
import { MemlensError } from '../engine/errors';
import { axisDimKey } from '../engine/shapes/bind-dims';
import type { InputFill, InputSpec } from './types';
import { FLOAT16, encodeFloat } from '../engine/onnx/float-formats';
import type { Rng } from '../engine/seeded-random';

/** Ops that pass integer ids through unchanged in value, on the way to a Gather. */
const ID_PASS_THROUGH = new Set(['Cast', 'Reshape', 'Unsqueeze', 'Squeeze', 'Flatten', 'Identity']);

const INT_TYPES = new Set<DType>(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']);
const FLOAT_TYPES = new Set<DType>(['float32', 'float16', 'float64']);

export type InputData = Float32Array | Float64Array | Uint16Array | Int8Array | Uint8Array | Int16Array | Int32Array |
  Uint32Array | BigInt64Array | BigUint64Array;

/** onnxruntime-node tensor type names for the dtypes it accepts as inputs. */
export const ORT_TENSOR_TYPE: Partial<Record<DType, string>> = {
  float32: 'float32', float16: 'float16', float64: 'float64', int8: 'int8', uint8: 'uint8', int16: 'int16',
  uint16: 'uint16', int32: 'int32', uint32: 'uint32', int64: 'int64', uint64: 'uint64', bool: 'bool',
};

export function planInputs(model: Model, dims: Record<string, number>, where: string, values: Record<string, number> = {}): InputSpec[] {
  return model.graph.inputs.map((input) => {
    const shape = bindShape(input, dims, where);
    if (!ORT_TENSOR_TYPE[input.dtype]) {
      throw new MemlensError(`${where}: input '${input.name}' has type ${input.dtype}, which a run cannot feed`);
    }
    const count = shape.reduce((a, b) => a * b, 1);
    const bytes = Math.ceil((count * dtypeBits(input.dtype)) / 8);
    const spec: InputSpec = { name: input.name, dtype: input.dtype, shape, fill: 'random', bytes };
    const fill = chooseFill(model.graph, input);
    spec.fill = fill.fill;
    if (fill.idLimit !== undefined) spec.idLimit = fill.idLimit;
    if (values[input.name] !== undefined) {
      spec.fill = 'value';
      spec.value = values[input.name];
    }
    return spec;
  });
}

function bindShape(input: ValueInfo, dims: Record<string, number>, where: string): number[] {
  if (input.shape === null) {
    throw new MemlensError(`${where}: input '${input.name}' has no declared shape; a run needs one`);
  }
  return input.shape.map((d, axis) => {
    if (typeof d === 'number') return d;
    if (typeof d === 'string' && dims[d] !== undefined) return dims[d];
    if (d === null && dims[axisDimKey(input.name, axis)] !== undefined) return dims[axisDimKey(input.name, axis)];
    const what = typeof d === 'string' ? `symbolic dim '${d}'` : 'an unnamed dim';
    const hint = `; pass --dim ${typeof d === 'string' ? d : axisDimKey(input.name, axis)}=N`;
    throw new MemlensError(`${where}: input '${input.name}' axis ${axis} is ${what} with no value${hint}`);
  });
}

function chooseFill(graph: Graph, input: ValueInfo): { fill: InputFill; idLimit?: number } {
  if (/mask/i.test(input.name)) return { fill: 'ones' };
  if (FLOAT_TYPES.has(input.dtype)) return { fill: 'random' };
  if (INT_TYPES.has(input.dtype)) {
    const limit = embeddingRows(graph, input.name);
    if (limit !== null) return { fill: 'ids', idLimit: limit };
  }
  return { fill: 'zeros' };
}

/** Rows of the smallest embedding table (Gather over an initializer) this value indexes, or null. */
export function embeddingRows(graph: Graph, value: string): number | null {
  let best: number | null = null;
  const seen = new Set<string>();
  const walk = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const node of graph.nodes) {
      const at = node.inputs.indexOf(name);
      if (at < 0) continue;
      if (node.opType === 'Gather' && at === 1) {
        const table = graph.initializers.get(node.inputs[0]);
        const axis = node.attributes.axis?.kind === 'int' ? node.attributes.axis.value : 0;
        if (table && table.dims.length > 0 && axis === 0) best = best === null ? table.dims[0] : Math.min(best, table.dims[0]);
      } else if (ID_PASS_THROUGH.has(node.opType) && at === 0) {
        for (const out of node.outputs) walk(out);
      }
    }
  };
  walk(value);
  return best;
}

export function makeInputData(spec: InputSpec, rng: Rng): InputData {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const value = (): number => {
    switch (spec.fill) {
      case 'ones': return 1;
      case 'zeros': return 0;
      case 'ids': return Math.floor(rng() * (spec.idLimit ?? 1));
      case 'random': return rng() * 2 - 1;
      case 'value': return spec.value ?? 0;
    }
  };
  const fillWith = <T extends { [i: number]: number; length: number }>(a: T): T => {
    for (let i = 0; i < a.length; i++) a[i] = value();
    return a;
  };
  switch (spec.dtype) {
    case 'float32': return fillWith(new Float32Array(n));
    case 'float64': return fillWith(new Float64Array(n));
    case 'float16': {
      const a = new Uint16Array(n);
      for (let i = 0; i < n; i++) a[i] = encodeFloat(FLOAT16, value());
      return a;
    }
    case 'int8': return fillWith(new Int8Array(n));
    case 'uint8': case 'bool': return fillWith(new Uint8Array(n));
    case 'int16': return fillWith(new Int16Array(n));
    case 'uint16': return fillWith(new Uint16Array(n));
    case 'int32': return fillWith(new Int32Array(n));
    case 'uint32': return fillWith(new Uint32Array(n));
    case 'int64': {
      const a = new BigInt64Array(n);
      for (let i = 0; i < n; i++) a[i] = BigInt(value());
      return a;
    }
    case 'uint64': {
      const a = new BigUint64Array(n);
      for (let i = 0; i < n; i++) a[i] = BigInt(value());
      return a;
    }
    default:
      throw new Error(`internal: no input data for ${spec.dtype}`);
  }
}
