// Inferred shapes and dtypes against what ONNX Runtime actually produces: every intermediate
// tensor of the real fixture models, and single operators whose semantics are easy to get wrong
// (ceil_mode pooling, ConvTranspose, negative-step Slice, Resize, contrib attention ops).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { DType, Dim, Model } from '../../../extension/engine/graph';
import { decodeModel } from '../../../extension/engine/onnx/decode';
import { inferShapes } from '../../../extension/engine/shapes/infer';
import { type Feed, disagreements } from './ort-probe';
import { type FixtureModelName, modelPath, requireFixtures } from '../../fixtures/real-models';
import { a, init, model, node, vi } from '../../unit/shapes/build';

const fixtureCases: ReadonlyArray<readonly [FixtureModelName, Record<string, number>, Feed]> = [
  ['resnet18', {}, { dtype: 'float32', shape: [1, 3, 224, 224] }],
  ['mobilenet_v2', {}, { dtype: 'float32', shape: [1, 3, 224, 224] }],
  ['vit_ti_16', {}, { dtype: 'float32', shape: [1, 3, 224, 224] }],
  ['transformer_encoder', {}, { dtype: 'int64', shape: [1, 128] }],
  ['ppocr_v4_det', { 'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 64, 'p2o.DynamicDimension.2': 96 }, { dtype: 'float32', shape: [1, 3, 64, 96] }],
  ['ppocr_v4_rec', { 'p2o.DynamicDimension.0': 2, 'p2o.DynamicDimension.1': 320 }, { dtype: 'float32', shape: [2, 3, 48, 320] }],
  ['ppocr_mobile_v2_cls', { 'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 48, 'p2o.DynamicDimension.2': 192 }, { dtype: 'float32', shape: [1, 3, 48, 192] }],
];

for (const [name, dims, feed] of fixtureCases) {
  test(`${name}: every intermediate shape and dtype matches ONNX Runtime`, async () => {
    requireFixtures(name);
    const m = decodeModel(fs.readFileSync(modelPath(name)), name);
    const inferred = inferShapes(m, dims);
    assert.deepEqual(inferred.unknown, []);
    assert.deepEqual(inferred.warnings, []);
    const c = await disagreements(m, dims, { [m.graph.inputs[0].name]: feed });
    assert.deepEqual(c.mismatches, []);
    assert.equal(c.compared, new Set(m.graph.nodes.flatMap((n) => n.outputs)).size);
  });
}

/** A one-node model whose weights are initializers with values and whose data are inputs. */
function single(op: string, data: [string, DType, number[]][], weights: [string, DType, number[], number[]?][], outputs: string[], attrs = {}, domain = '', opset = 17): Model {
  const inputs = data.map(([n, d, s]) => vi(n, d, s as Dim[]));
  const initializers = weights.map(([n, d, s, v]) => init(n, d, s, v ?? new Array<number>(s.reduce((x, y) => x * y, 1)).fill(0)));
  const names = [...data.map(([n]) => n), ...weights.map(([n]) => n)];
  return model({ inputs, initializers, nodes: [node(op, names, outputs, attrs, domain)] }, { '': opset, 'com.microsoft': 1 });
}

function feedsOf(m: Model, values: Record<string, number[]> = {}): Record<string, Feed> {
  return Object.fromEntries(m.graph.inputs.map((i) => [i.name, { dtype: i.dtype, shape: i.shape as number[], values: values[i.name] }]));
}

const opCases: ReadonlyArray<readonly [string, Model, Record<string, number[]>?]> = [
  ['MaxPool ceil_mode with pads', single('MaxPool', [['x', 'float32', [1, 2, 5, 112]]], [], ['y', 'i'], { kernel_shape: a.ints([2, 3]), strides: a.ints([2, 2]), pads: a.ints([1, 0, 1, 0]), ceil_mode: a.int(1) })],
  ['AveragePool ceil_mode, dilations (opset 19)', single('AveragePool', [['x', 'float32', [1, 1, 17, 9]]], [], ['y'], { kernel_shape: a.ints([3, 2]), strides: a.ints([3, 2]), dilations: a.ints([2, 1]), ceil_mode: a.int(1) }, '', 19)],
  ['ConvTranspose with output_padding and groups', single('ConvTranspose', [['x', 'float32', [1, 4, 7, 5]]], [['w', 'float32', [4, 3, 3, 2]]], ['y'], { strides: a.ints([2, 3]), pads: a.ints([1, 0, 0, 1]), output_padding: a.ints([1, 2]), group: a.int(2) })],
  ['Conv SAME_LOWER', single('Conv', [['x', 'float32', [2, 3, 11, 10]]], [['w', 'float32', [6, 3, 3, 3]]], ['y'], { strides: a.ints([2, 3]), auto_pad: a.string('SAME_LOWER') })],
  ['Conv with dilation, pads and groups', single('Conv', [['x', 'float32', [1, 4, 20, 9]]], [['w', 'float32', [8, 2, 3, 2]]], ['y'], { strides: a.ints([3, 1]), dilations: a.ints([2, 3]), pads: a.ints([1, 2, 0, 2]), group: a.int(2) })],
  ['Slice with negative steps and clamping', single('Slice', [['x', 'float32', [7, 9, 4]]], [['s', 'int64', [2], [-2, 100]], ['e', 'int64', [2], [-100, 1]], ['ax', 'int64', [2], [1, 0]], ['st', 'int64', [2], [-3, -2]]], ['y'])],
  ['Resize with scales (floor)', single('Resize', [['x', 'float32', [1, 2, 7, 5]]], [['roi', 'float32', [0]], ['sc', 'float32', [4], [1, 1, 1.7, 2.5]]], ['y'], { mode: a.string('nearest') }, '', 13)],
  ['Split into uneven num_outputs (opset 18)', single('Split', [['x', 'float32', [11, 2]]], [], ['y0', 'y1', 'y2'], { num_outputs: a.int(3) }, '', 18)],
  ['Einsum with ellipsis', single('Einsum', [['x', 'float32', [2, 5, 3, 4]], ['z', 'float32', [1, 5, 4, 6]]], [], ['y'], { equation: a.string('...ij,...jk->...ik') })],
  ['LayerNormalization statistics', single('LayerNormalization', [['x', 'float32', [2, 3, 8]]], [['g', 'float32', [8]], ['b', 'float32', [8]]], ['y', 'mean', 'inv'], { axis: a.int(-1) })],
  ['TopK and ArgMax', model({ inputs: [vi('x', 'float32', [3, 10])], initializers: [init('k', 'int64', [1], [4])], nodes: [node('TopK', ['x', 'k'], ['v', 'i'], { axis: a.int(1) }), node('ArgMax', ['x'], ['am'], { keepdims: a.int(0) })] })],
  ['MatMulNBits 4-bit, block 32', single('MatMulNBits', [['x', 'float32', [2, 3, 64]]], [['wq', 'uint8', [16, 2, 16]], ['sc', 'float32', [32]]], ['y'], { K: a.int(64), N: a.int(16), bits: a.int(4), block_size: a.int(32) }, 'com.microsoft')],
  ['SkipLayerNormalization outputs', single('SkipLayerNormalization', [['x', 'float32', [2, 3, 16]], ['skip', 'float32', [2, 3, 16]]], [['g', 'float32', [16]], ['b', 'float32', [16]]], ['y', 'mean', 'inv', 'sum'], { epsilon: a.float(1e-5) }, 'com.microsoft')],
  ['com.microsoft Attention with past', model({
    inputs: [vi('x', 'float32', [2, 3, 16]), vi('mask', 'int32', [2, 5]), vi('past', 'float32', [2, 2, 4, 2, 4])],
    initializers: [init('w', 'float32', [16, 48], new Array(16 * 48).fill(0)), init('bias', 'float32', [48], new Array(48).fill(0))],
    nodes: [node('Attention', ['x', 'w', 'bias', 'mask', 'past'], ['y', 'present'], { num_heads: a.int(4), unidirectional: a.int(1) }, 'com.microsoft')],
  }, { '': 17, 'com.microsoft': 1 }), { mask: new Array<number>(10).fill(1) }],
  ['MultiHeadAttention with past', single('MultiHeadAttention', [['q', 'float32', [1, 3, 16]], ['k', 'float32', [1, 3, 16]], ['v', 'float32', [1, 3, 16]]], [], ['y', 'pk', 'pv'], { num_heads: a.int(2) }, 'com.microsoft')],
  ['GroupQueryAttention with past', model({
    inputs: [vi('q', 'float32', [1, 2, 64]), vi('k', 'float32', [1, 2, 32]), vi('v', 'float32', [1, 2, 32]), vi('pk', 'float32', [1, 2, 5, 16]), vi('pv', 'float32', [1, 2, 5, 16]), vi('seqlens', 'int32', [1])],
    initializers: [init('total', 'int32', [], [7])],
    nodes: [node('GroupQueryAttention', ['q', 'k', 'v', 'pk', 'pv', 'seqlens', 'total'], ['y', 'prk', 'prv'], { num_heads: a.int(4), kv_num_heads: a.int(2) }, 'com.microsoft')],
  }, { '': 17, 'com.microsoft': 1 }), { seqlens: [6] }],
];

for (const [title, m, values] of opCases) {
  test(`${title}: inferred shapes match ONNX Runtime`, async () => {
    assert.deepEqual(inferShapes(m, {}).unknown, []);
    const c = await disagreements(m, {}, feedsOf(m, values));
    assert.deepEqual(c.mismatches, []);
    assert.equal(c.compared, m.graph.nodes.reduce((k, n) => k + n.outputs.length, 0));
  });
}
