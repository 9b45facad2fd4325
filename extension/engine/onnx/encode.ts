// The plain Model -> ONNX ModelProto bytes, for graphs MemLens makes (traced TypeScript models,
// rewritten graphs). Initializers without bytes are written as external data placeholders that
// the runner materialises; they are never allocated here.
import type { AttributeValue, DType, Graph, GraphNode, Initializer, Model, TensorType, ValueInfo } from '../graph';
import { dtypeBits } from '../graph';
import { ATTRIBUTE_TYPES, DATA_TYPES, ModelProto } from './schema';

export const UNMATERIALISED_LOCATION = 'memlens:unmaterialised';

export function encodeModel(model: Model): Uint8Array {
  const pb = {
    irVersion: model.irVersion,
    producerName: model.producer || 'memlens',
    opsetImport: Object.entries(model.opsets).map(([domain, version]) => ({ domain, version })),
    graph: encodeGraph(model.graph),
    metadataProps: Object.entries(model.metadata).map(([key, value]) => ({ key, value })),
  };
  const err = ModelProto.verify(pb);
  if (err) throw new Error(`internal: cannot encode model: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(pb)).finish();
}

function encodeGraph(g: Graph): Record<string, unknown> {
  return {
    name: g.name,
    node: g.nodes.map(encodeNode),
    initializer: [...g.initializers.values()].map(encodeTensor),
    input: g.inputs.map(encodeValueInfo),
    output: g.outputs.map(encodeValueInfo),
    valueInfo: [...g.valueInfo.entries()].map(([name, t]) => encodeValueInfo({ name, ...t })),
  };
}

function encodeNode(n: GraphNode): Record<string, unknown> {
  return {
    name: n.name,
    opType: n.opType,
    domain: n.domain,
    input: n.inputs,
    output: n.outputs,
    attribute: Object.entries(n.attributes).map(([name, a]) => encodeAttribute(name, a)),
    metadataProps: Object.entries(n.metadata).map(([key, value]) => ({ key, value })),
  };
}

function encodeAttribute(name: string, a: AttributeValue): Record<string, unknown> {
  switch (a.kind) {
    case 'float': return { name, type: ATTRIBUTE_TYPES.FLOAT, f: a.value };
    case 'int': return { name, type: ATTRIBUTE_TYPES.INT, i: a.value };
    case 'string': return { name, type: ATTRIBUTE_TYPES.STRING, s: Buffer.from(a.value, 'utf8') };
    case 'floats': return { name, type: ATTRIBUTE_TYPES.FLOATS, floats: a.value };
    case 'ints': return { name, type: ATTRIBUTE_TYPES.INTS, ints: a.value };
    case 'strings': return { name, type: ATTRIBUTE_TYPES.STRINGS, strings: a.value.map((s) => Buffer.from(s, 'utf8')) };
    case 'tensor': return { name, type: ATTRIBUTE_TYPES.TENSOR, t: encodeTensor(a.value) };
    case 'graph': return { name, type: ATTRIBUTE_TYPES.GRAPH, g: encodeGraph(a.value) };
    case 'graphs': return { name, type: ATTRIBUTE_TYPES.GRAPHS, graphs: a.value.map(encodeGraph) };
    case 'other': throw new Error(`internal: attribute ${name} has no encodable value`);
  }
}

export function encodeTensor(t: Initializer): Record<string, unknown> {
  const base = { name: t.name, dims: t.dims, dataType: dtypeCode(t.dtype) };
  const raw = t.raw ?? (t.values ? rawFromValues(t.dtype, t.values) : undefined);
  if (raw) return { ...base, rawData: raw };
  return { ...base, dataLocation: 1, externalData: [{ key: 'location', value: UNMATERIALISED_LOCATION }] };
}

function encodeValueInfo(v: ValueInfo): Record<string, unknown> {
  return { name: v.name, type: encodeType(v) };
}

function encodeType(t: TensorType): Record<string, unknown> {
  const tensorType: Record<string, unknown> = { elemType: dtypeCode(t.dtype) };
  if (t.shape) {
    tensorType.shape = {
      dim: t.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})),
    };
  }
  return { tensorType };
}

export function dtypeCode(d: DType): number {
  const i = (DATA_TYPES as readonly string[]).indexOf(d);
  if (i < 0) throw new Error(`internal: no ONNX code for dtype ${d}`);
  return i;
}

export function rawFromValues(dtype: DType, values: number[]): Uint8Array {
  const size = dtypeBits(dtype) / 8;
  const buf = new ArrayBuffer(values.length * size);
  const view = new DataView(buf);
  values.forEach((v, i) => {
    switch (dtype) {
      case 'int64': view.setBigInt64(i * 8, BigInt(Math.trunc(v)), true); break;
      case 'int32': view.setInt32(i * 4, v, true); break;
      case 'int8': view.setInt8(i, v); break;
      case 'uint8': case 'bool': view.setUint8(i, v); break;
      case 'float32': view.setFloat32(i * 4, v, true); break;
      case 'float64': view.setFloat64(i * 8, v, true); break;
      default: throw new Error(`internal: cannot write ${dtype} values`);
    }
  });
  return new Uint8Array(buf);
}
