import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Graph, GraphNode, Model } from '../../../extension/engine/graph';
import { embeddingRows, makeInputData, planInputs } from '../../../extension/runner/inputs';
import { FLOAT16, encodeFloat } from '../../../extension/engine/onnx/float-formats';
import { seededRng } from '../../../extension/engine/seeded-random';
import { parseComputeApps } from '../../../extension/runner/gpu-memory';
import { formatSeconds } from '../../../extension/process/format';

const n = (name: string, opType: string, inputs: string[], outputs: string[]): GraphNode => ({ name, opType, domain: '', inputs, outputs, attributes: {}, metadata: {} });

function model(): Model {
  const graph: Graph = {
    name: 'g',
    inputs: [
      { name: 'input_ids', dtype: 'int64', shape: ['batch', 'seq'] },
      { name: 'token_type_ids', dtype: 'int32', shape: ['batch', 'seq'] },
      { name: 'attention_mask', dtype: 'int64', shape: ['batch', 'seq'] },
      { name: 'position_ids', dtype: 'int64', shape: ['batch', 'seq'] },
      { name: 'pixels', dtype: 'float16', shape: [2, 3] },
    ],
    outputs: [],
    initializers: new Map([
      ['wte', { name: 'wte', dtype: 'float32', dims: [50257, 8], external: true }],
      ['types', { name: 'types', dtype: 'float32', dims: [2, 8], external: true }],
      ['small', { name: 'small', dtype: 'float32', dims: [7, 8], external: true }],
    ]),
    valueInfo: new Map(),
    nodes: [
      n('embed', 'Gather', ['wte', 'input_ids'], ['e']),
      n('cast', 'Cast', ['token_type_ids'], ['tt']),
      n('unsq', 'Unsqueeze', ['tt'], ['tt2']),
      n('types', 'Gather', ['types', 'tt2'], ['t']),
      n('other', 'Gather', ['small', 'input_ids'], ['s']),
      n('pos', 'Add', ['position_ids', 'position_ids'], ['p']),
    ],
  };
  return { irVersion: 8, producer: '', opsets: { '': 17 }, metadata: {}, graph };
}

describe('run inputs', () => {
  it('finds the embedding table an input indexes, through casts and reshapes; the smallest wins', () => {
    const g = model().graph;
    assert.equal(embeddingRows(g, 'input_ids'), 7);
    assert.equal(embeddingRows(g, 'token_type_ids'), 2);
    assert.equal(embeddingRows(g, 'position_ids'), null);
  });

  it('plans fills and byte sizes from bound dims', () => {
    const specs = planInputs(model(), { batch: 2, seq: 5 }, 'm');
    assert.deepEqual(specs.map((s) => [s.name, s.fill, s.idLimit, s.shape, s.bytes]), [
      ['input_ids', 'ids', 7, [2, 5], 80],
      ['token_type_ids', 'ids', 2, [2, 5], 40],
      ['attention_mask', 'ones', undefined, [2, 5], 80],
      ['position_ids', 'zeros', undefined, [2, 5], 80],
      ['pixels', 'random', undefined, [2, 3], 12],
    ]);
  });

  it('feeds an input its --input value, and an unnamed axis its input:axis size', () => {
    const m: Model = {
      ...model(),
      graph: { ...model().graph, inputs: [{ name: 'sr', dtype: 'int64', shape: [] }, { name: 'audio', dtype: 'float32', shape: [null, null] }], nodes: [] },
    };
    const [sr, audio] = planInputs(m, { 'audio:0': 1, 'audio:1': 512 }, 'm', { sr: 16000 });
    assert.deepEqual([sr.fill, sr.value, sr.shape], ['value', 16000, []]);
    assert.deepEqual(makeInputData(sr, seededRng(1)), new BigInt64Array([16000n]));
    assert.deepEqual(audio.shape, [1, 512]);
    assert.throws(() => planInputs(m, { 'audio:0': 1 }, 'm'), /input 'audio' axis 1 is an unnamed dim with no value; pass --dim audio:1=N/);
  });

  it('makes ids inside the table, deterministic per seed', () => {
    const spec = planInputs(model(), { batch: 4, seq: 256 }, 'm')[0];
    const a = makeInputData(spec, seededRng(7)) as BigInt64Array;
    const b = makeInputData(spec, seededRng(7)) as BigInt64Array;
    assert.deepEqual(a, b);
    assert.ok(a.every((v) => v >= 0n && v < 7n));
    assert.equal(new Set(a).size, 7, 'every id of a 7-row table appears in 1024 draws');
  });

  it('writes float16 bits', () => {
    assert.equal(encodeFloat(FLOAT16, 1), 0x3c00);
    assert.equal(encodeFloat(FLOAT16, -2), 0xc000);
    assert.equal(encodeFloat(FLOAT16, 65504), 0x7bff);
    assert.equal(encodeFloat(FLOAT16, 1e6), 0x7c00);
    assert.equal(encodeFloat(FLOAT16, 0.1), 0x2e66);
    assert.equal(encodeFloat(FLOAT16, 2 ** -24), 0x0001);
  });

  it('parses nvidia-smi compute apps for one pid', () => {
    const text = '1234, 512\n999, 100\n1234, 256\n';
    assert.equal(parseComputeApps(text, 1234), 768 * 2 ** 20);
    assert.equal(parseComputeApps(text, 42), null);
    assert.equal(parseComputeApps('1234, [N/A]\n', 1234), null);
  });

  it('formats seconds for messages', () => {
    assert.equal(formatSeconds(60_000), '60 s');
    assert.equal(formatSeconds(2500), '2.5 s');
  });
});
