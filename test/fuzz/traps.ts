// Hand-built hostile ONNX files: each aims at one way a reader can be made to crash, hang, allocate
// without bound or reach outside its place.
import { encodeModel } from '../../extension/engine/onnx/encode';
import { ModelProto, type PbModel } from '../../extension/engine/onnx/schema';
import type { Model } from '../../extension/engine/graph';

export interface Trap { name: string; bytes: Uint8Array }

function tiny(nodes: Model['graph']['nodes'], inputs: Model['graph']['inputs'], outputs: Model['graph']['outputs'] = [], opset = 17): Uint8Array {
  return encodeModel({ irVersion: 8, producer: 'trap', opsets: { '': opset }, metadata: {}, graph: { name: 'g', nodes, inputs, outputs, initializers: new Map(), valueInfo: new Map() } });
}

const n = (opType: string, inputs: string[], outputs: string[], attributes: Model['graph']['nodes'][number]['attributes'] = {}) =>
  ({ name: `${opType}_${outputs[0]}`, opType, domain: '', inputs, outputs, attributes, metadata: {} });

/** A varint of `v` (v < 2^53). */
function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

export function trapFiles(seed: Uint8Array): Trap[] {
  const traps: Trap[] = [];
  const add = (name: string, bytes: Uint8Array) => traps.push({ name, bytes });
  add('empty', new Uint8Array(0));
  add('random', Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24));
  // ModelProto field 7 (graph), length-delimited, claiming 4 GiB / 2^50 bytes that are not there.
  add('lying-length-4GiB', Uint8Array.from([0x3a, ...varint(2 ** 32), 1, 2, 3]));
  add('lying-length-2^50', Uint8Array.from([0x3a, ...varint(2 ** 50), 1, 2, 3]));
  add('endless-varint', Uint8Array.from([0x08, ...new Array<number>(64).fill(0xff)]));
  add('seed-then-lying-length', Uint8Array.from([...seed, 0x3a, ...varint(2 ** 31)]));
  add('cycle', tiny([n('Relu', ['b'], ['a']), n('Relu', ['a'], ['b'])], [], [{ name: 'b', dtype: 'float32', shape: [4] }]));
  add('self-loop', tiny([n('Add', ['x', 'y'], ['y'])], [{ name: 'x', dtype: 'float32', shape: [4] }], [{ name: 'y', dtype: 'float32', shape: [4] }]));
  for (const d of [2 ** 62, 2 ** 53, 1e15]) {
    add(`absurd-dim-${d}`, tiny([n('Relu', ['x'], ['y'])], [{ name: 'x', dtype: 'float32', shape: [d, d] }], [{ name: 'y', dtype: 'float32', shape: null }]));
  }
  add('negative-dim', tiny([n('Relu', ['x'], ['y'])], [{ name: 'x', dtype: 'float32', shape: [-3, 4] }]));
  add('proto-dims', tiny([n('Relu', ['x'], ['y'])], [{ name: 'x', dtype: 'float32', shape: ['__proto__', 'constructor', 'toString'] }]));
  const outs = Array.from({ length: 100_000 }, (_, i) => `o${i}`);
  add('split-1e5-outputs', tiny([n('Split', ['x'], outs, { axis: { kind: 'int', value: 0 }, num_outputs: { kind: 'int', value: 100_000 } })], [{ name: 'x', dtype: 'float32', shape: [100_000, 4] }], [], 18));
  add('huge-name', tiny([n('Relu', ['x'.repeat(1_000_000)], ['y'])], [{ name: 'z', dtype: 'float32', shape: [4] }]));
  add('huge-attribute', tiny([n('Reshape', ['x', 's'], ['y'], { allowzero: { kind: 'ints', value: new Array<number>(1_000_000).fill(7) } })], [{ name: 'x', dtype: 'float32', shape: [4] }, { name: 's', dtype: 'int64', shape: [1] }]));
  add('expand-negative', tiny([n('Constant', [], ['s'], { value: { kind: 'tensor', value: { name: 's', dtype: 'int64', dims: [2], values: [-2, 4], external: false } } }), n('Expand', ['x', 's'], ['y'])], [{ name: 'x', dtype: 'float32', shape: [1, 4] }]));
  const pb = ModelProto.decode(seed) as unknown as PbModel;
  for (const t of pb.graph?.initializer ?? []) {
    t.dataLocation = 1;
    t.externalData = [{ key: 'location', value: '../../../../etc/passwd' }, { key: 'length', value: '99999999999' }];
  }
  add('external-data-escape', ModelProto.encode(pb).finish());
  return traps;
}
