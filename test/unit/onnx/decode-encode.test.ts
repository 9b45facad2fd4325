// ONNX I/O: round trips, opset imports, value_info, node metadata, and external data sized from
// declared dims without reading weight bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeModel } from '../../../extension/engine/analyze';
import type { Model } from '../../../extension/engine/graph';
import { decodeModel } from '../../../extension/engine/onnx/decode';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { ModelProto, type PbTensor } from '../../../extension/engine/onnx/schema';
import { withDefaults } from '../../../extension/engine/settings';

function sample(): Model {
  return {
    irVersion: 10,
    producer: 'test 1.0',
    opsets: { '': 21, 'com.microsoft': 1 },
    metadata: { author: 'me' },
    graph: {
      name: 'g',
      inputs: [{ name: 'x', dtype: 'float16', shape: ['batch', 'sequence', 64] }],
      outputs: [{ name: 'y', dtype: 'float16', shape: ['batch', 'sequence', 64] }],
      initializers: new Map([
        ['w', { name: 'w', dtype: 'float16', dims: [64, 64], external: false }],
        ['axes', { name: 'axes', dtype: 'int64', dims: [1], values: [-1], external: false }],
      ]),
      valueInfo: new Map([['h', { dtype: 'float16', shape: ['batch', 'sequence', 64] }]]),
      nodes: [
        { name: 'mm', opType: 'MatMul', domain: '', inputs: ['x', 'w'], outputs: ['h'], attributes: {}, metadata: { 'memlens.file': 'm.ts', 'memlens.line': '7' } },
        { name: 'sm', opType: 'Softmax', domain: '', inputs: ['h'], outputs: ['y'], attributes: { axis: { kind: 'int', value: -1 } }, metadata: {} },
      ],
    },
  };
}

test('a model survives encode and decode: opsets, metadata, value_info, attributes, symbolic dims', () => {
  const m = decodeModel(encodeModel(sample()));
  assert.equal(m.irVersion, 10);
  assert.deepEqual(m.opsets, { '': 21, 'com.microsoft': 1 });
  assert.deepEqual(m.metadata, { author: 'me' });
  assert.deepEqual(m.graph.inputs, [{ name: 'x', dtype: 'float16', shape: ['batch', 'sequence', 64] }]);
  assert.deepEqual(m.graph.valueInfo.get('h'), { dtype: 'float16', shape: ['batch', 'sequence', 64] });
  assert.deepEqual(m.graph.nodes[0].metadata, { 'memlens.file': 'm.ts', 'memlens.line': '7' });
  assert.deepEqual(m.graph.nodes[1].attributes.axis, { kind: 'int', value: -1 });
  assert.deepEqual(m.graph.initializers.get('axes')!.values, [-1]);
});

test('weights without bytes become external-data placeholders, sized from their dims on decode', () => {
  const bytes = encodeModel(sample());
  const w = decodeModel(bytes).graph.initializers.get('w')!;
  assert.equal(w.external, true);
  assert.equal(w.raw, undefined);
  assert.deepEqual(w.dims, [64, 64]);
  // The file holds no weight bytes: far smaller than 64*64*2.
  assert.ok(bytes.length < 1024, `${bytes.length} bytes`);
  const p = analyzeModel(decodeModel(bytes), withDefaults({ batch: 2, seq: 3 }), { source: 'm.onnx', entry: null });
  assert.equal(p.totals.weightBytes, 64 * 64 * 2 + 8);
});

test('external data written by other tools (location + offset) is sized, never read', () => {
  const pb = ModelProto.toObject(ModelProto.decode(encodeModel(sample())), { longs: Number }) as { graph: { initializer: PbTensor[] } };
  const w = pb.graph.initializer.find((t) => t.name === 'w')!;
  w.externalData = [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '4096' }, { key: 'length', value: '8192' }];
  const bytes = ModelProto.encode(ModelProto.fromObject(pb)).finish();
  const m = decodeModel(bytes, 'ext.onnx');
  assert.equal(m.graph.initializers.get('w')!.external, true);
  const p = analyzeModel(m, withDefaults({ batch: 1, seq: 4 }), { source: 'ext.onnx', entry: null });
  assert.equal(p.params, 64 * 64);
});

test('bytes that are not ONNX give a one-line error naming the file', () => {
  assert.throws(() => decodeModel(new TextEncoder().encode('definitely not protobuf\n'.repeat(10)), 'bad.onnx'), /^MemlensError: bad\.onnx: not (a valid ONNX file|an ONNX model)/);
  assert.throws(() => decodeModel(new Uint8Array(0), 'empty.onnx'), /empty\.onnx: not an ONNX model/);
});
