// The plain Model -> ONNX ModelProto bytes, for graphs MemLens makes (traced TypeScript models,
// rewritten graphs). Initializers without bytes are written as external data placeholders that
// the runner materialises; they are never allocated here.
import type { AttributeValue, DType, Graph, GraphNode, Initializer, Model, TensorType, ValueInfo } from '../graph';
import { dtypeCode } from './dtype-codes';
import { encodeValues } from './raw-data';
import { ATTRIBUTE_TYPES, ModelProto } from './schema';

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
  const base = { name: t.name, dims: t.dims, dataType: onnxCode(t.dtype) };
  const raw = t.raw ?? (t.values ? encodeValues(t.dtype, t.values) : undefined);
  if (raw) return { ...base, rawData: raw };
  return { ...base, dataLocation: 1, externalData: [{ key: 'location', value: UNMATERIALISED_LOCATION }] };
}

function encodeValueInfo(v: ValueInfo): Record<string, unknown> {
  return { name: v.name, type: encodeType(v) };
}

function encodeType(t: TensorType): Record<string, unknown> {
  const tensorType: Record<string, unknown> = { elemType: onnxCode(t.dtype) };
  if (t.shape) {
    tensorType.shape = {
      dim: t.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})),
    };
  }
  return { tensorType };
}

function onnxCode(d: DType): number {
  const code = dtypeCode(d);
  if (code === null) throw new Error(`internal: no ONNX code for dtype ${d}`);
  return code;
}

