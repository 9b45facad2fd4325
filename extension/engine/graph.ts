// The model graph every part of MemLens speaks: an ONNX graph, decoded into plain data,
// whose nodes remember the source line that made them. No protobuf types leak past onnx/.

/** ONNX TensorProto.DataType names (subset of the enum that models use). */
export type DType =
  | 'float32' | 'float16' | 'bfloat16' | 'float64'
  | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'
  | 'bool' | 'string' | 'complex64' | 'complex128'
  | 'float8e4m3fn' | 'float8e4m3fnuz' | 'float8e5m2' | 'float8e5m2fnuz'
  | 'int4' | 'uint4' | 'float4e2m1' | 'undefined';

export type FloatDType = 'float32' | 'float16' | 'bfloat16' | 'float64';

export function isFloatDType(d: DType): d is FloatDType {
  return d === 'float32' || d === 'float16' || d === 'bfloat16' || d === 'float64';
}

/** A dimension: a known size, or a symbolic name (`batch`, `sequence`) or null when unknown. */
export type Dim = number | string | null;

export interface SourceLocation {
  file: string;
  line: number; // 1-based
  column?: number; // 1-based
}

/** Where a node came from: a line when known, always a scope when one can be derived. */
export interface NodeOrigin {
  source: SourceLocation | null;
  /** Module path, e.g. `transformer.h.3.attn` or `/layer1/layer1.0/conv1`. */
  scope: string;
}

export interface TensorType {
  dtype: DType;
  /** null when the rank is unknown. */
  shape: Dim[] | null;
}

export interface ValueInfo extends TensorType {
  name: string;
}

export interface Initializer {
  name: string;
  dtype: DType;
  dims: number[];
  /** Raw little-endian bytes when stored inline and decoded; absent for external data or when not loaded. */
  raw?: Uint8Array;
  /** Typed values for small int tensors (shape constants), decoded eagerly because shape rules need them. */
  values?: number[];
  external: boolean;
}

export type AttributeValue =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensor'; value: Initializer }
  | { kind: 'graph'; value: Graph }
  | { kind: 'graphs'; value: Graph[] }
  | { kind: 'other'; value: null };

export interface GraphNode {
  name: string;
  opType: string;
  /** '' for the default ONNX domain (ai.onnx). */
  domain: string;
  /** Input tensor names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttributeValue>;
  /** NodeProto.metadata_props. */
  metadata: Record<string, string>;
}

export interface Graph {
  name: string;
  nodes: GraphNode[];
  /** Graph inputs that are not initializers. */
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Map<string, Initializer>;
  /** Declared types of intermediate values (value_info), by name. */
  valueInfo: Map<string, TensorType>;
}

export interface Model {
  irVersion: number;
  producer: string;
  /** Opset version per domain ('' = ai.onnx). */
  opsets: Record<string, number>;
  graph: Graph;
  metadata: Record<string, string>;
}

/** Bits per element; int4-type packing is two per byte, rounded up per tensor. */
export function dtypeBits(dtype: DType): number {
  switch (dtype) {
    case 'float64': case 'int64': case 'uint64': case 'complex64': return 64;
    case 'complex128': return 128;
    case 'float32': case 'int32': case 'uint32': return 32;
    case 'float16': case 'bfloat16': case 'int16': case 'uint16': return 16;
    case 'int8': case 'uint8': case 'bool':
    case 'float8e4m3fn': case 'float8e4m3fnuz': case 'float8e5m2': case 'float8e5m2fnuz': return 8;
    case 'int4': case 'uint4': case 'float4e2m1': return 4;
    case 'string': return 64; // ORT holds std::string objects; counted as pointers, flagged by callers.
    case 'undefined': return 0;
  }
}

/** Product of dims; null when any dim is not a known number. */
export function elementCount(shape: Dim[] | null): number | null {
  if (shape === null) return null;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return null;
    n *= d;
  }
  return n;
}

/** Bytes of a tensor of this type, or null when its shape is not fully known. */
export function tensorBytes(t: TensorType): number | null {
  const n = elementCount(t.shape);
  if (n === null) return null;
  return Math.ceil((n * dtypeBits(t.dtype)) / 8);
}

const NO_BODIES: readonly Graph[] = [];

/** The subgraphs a node holds (If branches, Loop and Scan bodies); most nodes have none, and get no new array. */
export function nodeBodies(node: GraphNode): readonly Graph[] {
  let out: Graph[] | null = null;
  const attributes = node.attributes;
  for (const key in attributes) {
    if (!Object.hasOwn(attributes, key)) continue;
    const a = attributes[key];
    if (a.kind === 'graph') (out ??= []).push(a.value);
    else if (a.kind === 'graphs') (out ??= []).push(...a.value);
  }
  return out ?? NO_BODIES;
}
