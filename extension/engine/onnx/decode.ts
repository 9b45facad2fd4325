// ONNX ModelProto bytes -> the plain Model of graph.ts. Weight bytes are referenced, never copied,
// and external data is sized from declared dims without being read.
import Long from 'long';
import type { AttributeValue, DType, Dim, Graph, GraphNode, Initializer, Model, TensorType, ValueInfo } from '../graph';
import { dtypeBits } from '../graph';
import { MemlensError } from '../errors';
import { dtypeFromCode } from './dtype-codes';
import { decodeValues } from './raw-data';
import { ATTRIBUTE_TYPES, ModelProto, type PbAttribute, type PbEntry, type PbGraph, type PbModel, type PbNode, type PbTensor, type PbType } from './schema';

/** Integer tensors up to this many elements get their values decoded (shape constants). */
const MAX_FOLDED_ELEMENTS = 1024;
/** Element types whose raw values are decoded for folding (narrow floats stay opaque). */
const FOLDED_DTYPES: ReadonlySet<DType> = new Set<DType>(['int64', 'int32', 'int8', 'uint8', 'bool', 'float32', 'float64']);

export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (Long.isLong(v)) return v.toNumber();
  if (v === undefined || v === null) return 0;
  return Number(v);
}

export function decodeModel(bytes: Uint8Array, where = 'model'): Model {
  let pb: PbModel;
  try {
    pb = ModelProto.decode(bytes) as unknown as PbModel;
  } catch (e) {
    throw new MemlensError(`${where}: not a valid ONNX file (${(e as Error).message.split('\n')[0]})`);
  }
  if (!pb.graph || !Array.isArray(pb.opsetImport) || pb.opsetImport.length === 0 || num(pb.irVersion) <= 0) {
    throw new MemlensError(`${where}: not an ONNX model (no graph or opset imports found)`);
  }
  const opsets: Record<string, number> = {};
  for (const o of pb.opsetImport) {
    const d = o.domain === 'ai.onnx' ? '' : (o.domain ?? '');
    opsets[d] = num(o.version);
  }
  return {
    irVersion: num(pb.irVersion),
    producer: [pb.producerName, pb.producerVersion].filter(Boolean).join(' '),
    opsets,
    graph: decodeGraph(pb.graph),
    metadata: entries(pb.metadataProps),
  };
}

function entries(props: PbEntry[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of props ?? []) out[p.key ?? ''] = p.value ?? '';
  return out;
}

function decodeGraph(g: PbGraph | undefined = {}): Graph {
  const initializers = new Map<string, Initializer>();
  for (const t of g.initializer ?? []) initializers.set(t.name ?? '', decodeTensor(t));
  const valueInfo = new Map<string, TensorType>();
  for (const v of g.valueInfo ?? []) valueInfo.set(v.name ?? '', decodeType(v.type));
  const inputs: ValueInfo[] = [];
  for (const v of g.input ?? []) {
    if (initializers.has(v.name ?? '')) continue; // IR < 4 lists initializers as inputs too
    inputs.push({ name: v.name ?? '', ...decodeType(v.type) });
  }
  const outputs: ValueInfo[] = (g.output ?? []).map((v) => ({ name: v.name ?? '', ...decodeType(v.type) }));
  const nodes: GraphNode[] = (g.node ?? []).map(decodeNode);
  return { name: g.name ?? '', nodes, inputs, outputs, initializers, valueInfo };
}

function decodeNode(n: PbNode, i: number): GraphNode {
  const attributes: Record<string, AttributeValue> = {};
  for (const a of n.attribute ?? []) attributes[a.name ?? ''] = decodeAttribute(a);
  return {
    name: n.name || `${n.opType ?? ''}_${i}`,
    opType: n.opType ?? '',
    domain: n.domain === 'ai.onnx' ? '' : (n.domain ?? ''),
    inputs: [...(n.input ?? [])],
    outputs: [...(n.output ?? [])],
    attributes,
    metadata: entries(n.metadataProps),
  };
}

function decodeAttribute(a: PbAttribute): AttributeValue {
  const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
  switch (a.type) {
    case ATTRIBUTE_TYPES.FLOAT: return { kind: 'float', value: a.f ?? 0 };
    case ATTRIBUTE_TYPES.INT: return { kind: 'int', value: num(a.i) };
    case ATTRIBUTE_TYPES.STRING: return { kind: 'string', value: text(a.s ?? new Uint8Array()) };
    case ATTRIBUTE_TYPES.TENSOR: return { kind: 'tensor', value: decodeTensor(a.t ?? {}) };
    case ATTRIBUTE_TYPES.GRAPH: return { kind: 'graph', value: decodeGraph(a.g) };
    case ATTRIBUTE_TYPES.FLOATS: return { kind: 'floats', value: [...(a.floats ?? [])] };
    case ATTRIBUTE_TYPES.INTS: return { kind: 'ints', value: (a.ints ?? []).map(num) };
    case ATTRIBUTE_TYPES.STRINGS: return { kind: 'strings', value: (a.strings ?? []).map(text) };
    case ATTRIBUTE_TYPES.GRAPHS: return { kind: 'graphs', value: (a.graphs ?? []).map((g) => decodeGraph(g)) };
    default: return { kind: 'other', value: null };
  }
}

function decodeType(t: PbType | undefined): TensorType {
  const tensor = t?.tensorType ?? t?.sparseTensorType;
  if (!tensor) return { dtype: 'undefined', shape: null };
  const dtype = dtypeFromCode(tensor.elemType ?? 0);
  if (!tensor.shape) return { dtype, shape: null };
  const shape: Dim[] = (tensor.shape.dim ?? []).map((d) => {
    if (d.dimValue !== undefined && d.dimValue !== null && d.value === 'dimValue') return num(d.dimValue);
    if (d.dimParam) return d.dimParam;
    return null;
  });
  return { dtype, shape };
}

function decodeTensor(t: PbTensor): Initializer {
  const dtype = dtypeFromCode(t.dataType ?? 0);
  const dims = (t.dims ?? []).map(num);
  const external = t.dataLocation === 1;
  const raw: Uint8Array | undefined = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const init: Initializer = { name: t.name ?? '', dtype, dims, external };
  if (raw) init.raw = raw;
  const count = dims.reduce((a, b) => a * b, 1);
  if (!external && count <= MAX_FOLDED_ELEMENTS) {
    const values = intValues(t, dtype, raw, count);
    if (values) init.values = values;
  }
  return init;
}

/** Values of small numeric tensors, for constant folding of shape computations. */
function intValues(t: PbTensor, dtype: DType, raw: Uint8Array | undefined, count: number): number[] | undefined {
  if (raw) {
    const bytes = (count * dtypeBits(dtype)) / 8;
    if (raw.byteLength < bytes) return undefined;
    if (count === 0) return [];
    return FOLDED_DTYPES.has(dtype) ? Array.from(decodeValues(dtype, raw.subarray(0, bytes))) : undefined;
  }
  if (t.int64Data?.length) return t.int64Data.map(num);
  if (t.int32Data?.length) return [...t.int32Data];
  if (t.floatData?.length) return [...t.floatData];
  if (t.doubleData?.length) return [...t.doubleData];
  return count === 0 ? [] : undefined;
}
