// The ONNX protobuf messages MemLens reads and writes, as a protobufjs reflection root.
// Field numbers follow the ONNX IR specification (onnx.proto, IR version 10/11); only the
// messages and fields the engine uses are declared, so unknown fields are skipped on decode.
import type Long from 'long';
import * as protobuf from 'protobufjs';

const str = (id: number) => ({ type: 'string', id });
const rep = (type: string, id: number, packed = false) => ({ rule: 'repeated', type, id, options: { packed } });
const msg = (type: string, id: number) => ({ type, id });
const kv = (id: number) => rep('StringStringEntryProto', id);

const descriptor = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: str(1), value: str(2) } },
        OperatorSetIdProto: { fields: { domain: str(1), version: { type: 'int64', id: 2 } } },
        TensorShapeProto: {
          fields: { dim: rep('Dimension', 1) },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: { dimValue: { type: 'int64', id: 1 }, dimParam: str(2), denotation: str(3) },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType', 'sequenceType', 'mapType', 'optionalType', 'sparseTensorType'] } },
          fields: {
            tensorType: msg('Tensor', 1),
            sequenceType: msg('Sequence', 4),
            mapType: msg('Map', 5),
            denotation: str(6),
            sparseTensorType: msg('Tensor', 8),
            optionalType: msg('Optional', 9),
          },
          nested: {
            Tensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: msg('TensorShapeProto', 2) } },
            Sequence: { fields: { elemType: msg('TypeProto', 1) } },
            Map: { fields: { keyType: { type: 'int32', id: 1 }, valueType: msg('TypeProto', 2) } },
            Optional: { fields: { elemType: msg('TypeProto', 1) } },
          },
        },
        ValueInfoProto: { fields: { name: str(1), type: msg('TypeProto', 2), docString: str(3), metadataProps: kv(4) } },
        TensorProto: {
          fields: {
            dims: rep('int64', 1),
            dataType: { type: 'int32', id: 2 },
            floatData: rep('float', 4, true),
            int32Data: rep('int32', 5, true),
            stringData: rep('bytes', 6),
            int64Data: rep('int64', 7, true),
            name: str(8),
            rawData: { type: 'bytes', id: 9 },
            doubleData: rep('double', 10, true),
            uint64Data: rep('uint64', 11, true),
            docString: str(12),
            externalData: kv(13),
            dataLocation: { type: 'int32', id: 14 },
            metadataProps: kv(16),
          },
        },
        AttributeProto: {
          fields: {
            name: str(1),
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: msg('TensorProto', 5),
            g: msg('GraphProto', 6),
            floats: rep('float', 7),
            ints: rep('int64', 8),
            strings: rep('bytes', 9),
            tensors: rep('TensorProto', 10),
            graphs: rep('GraphProto', 11),
            docString: str(13),
            type: { type: 'int32', id: 20 },
            refAttrName: str(21),
          },
        },
        NodeProto: {
          fields: {
            input: rep('string', 1),
            output: rep('string', 2),
            name: str(3),
            opType: str(4),
            attribute: rep('AttributeProto', 5),
            docString: str(6),
            domain: str(7),
            overload: str(8),
            metadataProps: kv(9),
          },
        },
        GraphProto: {
          fields: {
            node: rep('NodeProto', 1),
            name: str(2),
            initializer: rep('TensorProto', 5),
            docString: str(10),
            input: rep('ValueInfoProto', 11),
            output: rep('ValueInfoProto', 12),
            valueInfo: rep('ValueInfoProto', 13),
            metadataProps: kv(16),
          },
        },
        FunctionProto: {
          fields: {
            name: str(1),
            input: rep('string', 4),
            output: rep('string', 5),
            attribute: rep('string', 6),
            node: rep('NodeProto', 7),
            docString: str(8),
            opsetImport: rep('OperatorSetIdProto', 9),
            domain: str(10),
          },
        },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: str(2),
            producerVersion: str(3),
            domain: str(4),
            modelVersion: { type: 'int64', id: 5 },
            docString: str(6),
            graph: msg('GraphProto', 7),
            opsetImport: rep('OperatorSetIdProto', 8),
            metadataProps: kv(14),
            functions: rep('FunctionProto', 25),
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);
export const ModelProto = root.lookupType('onnx.ModelProto');

// What ModelProto.decode gives back for the fields declared above (every field may be absent).
// int64 fields come as a Long or a number.
export type PbInt64 = number | Long;
export interface PbEntry { key?: string; value?: string }
export interface PbOpset { domain?: string; version?: PbInt64 }
export interface PbDimension { dimValue?: PbInt64 | null; dimParam?: string; value?: 'dimValue' | 'dimParam' }
export interface PbTensorType { elemType?: number; shape?: { dim?: PbDimension[] } }
export interface PbType { tensorType?: PbTensorType; sparseTensorType?: PbTensorType }
export interface PbValueInfo { name?: string; type?: PbType }
export interface PbTensor {
  name?: string;
  dims?: PbInt64[];
  dataType?: number;
  rawData?: Uint8Array;
  dataLocation?: number;
  externalData?: PbEntry[];
  int64Data?: PbInt64[];
  int32Data?: number[];
  floatData?: number[];
  doubleData?: number[];
}
export interface PbAttribute {
  name?: string;
  type?: number;
  f?: number;
  i?: PbInt64;
  s?: Uint8Array;
  t?: PbTensor;
  g?: PbGraph;
  floats?: number[];
  ints?: PbInt64[];
  strings?: Uint8Array[];
  graphs?: PbGraph[];
}
export interface PbNode {
  name?: string;
  opType?: string;
  domain?: string;
  input?: string[];
  output?: string[];
  attribute?: PbAttribute[];
  metadataProps?: PbEntry[];
}
export interface PbGraph {
  name?: string;
  node?: PbNode[];
  initializer?: PbTensor[];
  input?: PbValueInfo[];
  output?: PbValueInfo[];
  valueInfo?: PbValueInfo[];
}
export interface PbModel {
  irVersion?: PbInt64;
  producerName?: string;
  producerVersion?: string;
  graph?: PbGraph;
  opsetImport?: PbOpset[];
  metadataProps?: PbEntry[];
}

export const ATTRIBUTE_TYPES = {
  FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10,
} as const;
