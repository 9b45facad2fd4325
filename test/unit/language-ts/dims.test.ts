import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addDims, broadcastShapes, divideProducts, evaluateDim, mulDims } from '../../../language/typescript/api/dims';
import { FLOAT16, FLOAT8E4M3FN, decodeFloat, encodeFloat } from '../../../extension/engine/onnx/float-formats';
import { decodeValues, encodeValues } from '../../../extension/engine/onnx/raw-data';

test('symbolic dims combine and evaluate', () => {
  assert.equal(addDims('past_sequence', 'sequence'), 'past_sequence+sequence');
  assert.equal(addDims(3, 4), 7);
  assert.equal(mulDims('batch', 'sequence'), 'batch*sequence');
  assert.equal(evaluateDim('past_sequence+sequence', { past_sequence: 1048575, sequence: 1 }), 1048576);
  assert.equal(evaluateDim('(past_sequence+sequence)*2', { past_sequence: 3, sequence: 1 }), 8);
  assert.equal(evaluateDim('batch*sequence', { batch: 2 }), null);
});

test('reshape inference divides products and cancels symbols', () => {
  assert.equal(divideProducts(['batch', 'sequence', 768], ['batch', 'sequence', 12]), 64);
  assert.equal(divideProducts(['batch', 'sequence', 768], [768]), 'batch*sequence');
  assert.equal(divideProducts(['batch', 5], [3]), null);
  assert.equal(divideProducts(['batch', 'past_sequence+sequence', 4], ['batch', 4]), 'past_sequence+sequence');
});

test('broadcasting follows numpy, with symbols', () => {
  assert.deepEqual(broadcastShapes(['batch', 1, 'sequence', 8], [1, 4, 1, 8]), ['batch', 4, 'sequence', 8]);
  assert.deepEqual(broadcastShapes([3, 4], [4]), [3, 4]);
  assert.equal(broadcastShapes([3, 4], [5]), null);
});

test('half, bfloat16 and float8 encodings', () => {
  assert.equal(encodeFloat(FLOAT16, 1), 0x3c00);
  assert.equal(encodeFloat(FLOAT16, -2), 0xc000);
  assert.equal(encodeFloat(FLOAT16, 65504), 0x7bff);
  assert.equal(encodeFloat(FLOAT16, 1e6), 0x7c00);
  assert.equal(encodeFloat(FLOAT16, 2 ** -24), 0x0001);
  assert.equal(decodeFloat(FLOAT16, 0x3555), 0.333251953125);
  assert.deepEqual(Array.from(decodeValues('bfloat16', encodeValues('bfloat16', [1, -3.5]))), [1, -3.5]);
  assert.equal(encodeFloat(FLOAT8E4M3FN, 448), 0x7e);
  assert.equal(decodeFloat(FLOAT8E4M3FN, encodeFloat(FLOAT8E4M3FN, -1.5)), -1.5);
  assert.equal(decodeFloat(FLOAT8E4M3FN, encodeFloat(FLOAT8E4M3FN, 1000)), 448);
});
