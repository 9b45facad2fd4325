// The one function that makes buffers into text: what each kind of buffer reads as.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BufferContent } from '../../../extension/engine/memory/buffer-types';
import { bufferLabel } from '../../../extension/engine/memory/buffer-label';
import { mlpWithLoss, tabled } from './graphs';

const t = tabled(mlpWithLoss(), { mode: 'train', optimizer: 'adamw' });
const ctx = { nodes: t.table.nodes, settings: t.settings };
const label = (content: BufferContent) => bufferLabel({ bytes: 1, category: 'activations', start: 0, end: 0, owner: { kind: 'none' }, persistent: false, ...content }, ctx);
const extra = { node: 0, item: 'mean, inverse std', rule: 'LayerNorm saves its input, weight and per-row mean and inverse std' };

test('each buffer kind has its label', () => {
  assert.equal(label({ kind: 'tensor', tensor: 'h' }), 'h');
  assert.equal(label({ kind: 'saved', extra }), 'mean, inverse std (LayerNorm saves its input, weight and per-row mean and inverse std)');
  assert.equal(label({ kind: 'restored', of: { kind: 'tensor', tensor: 'r' }, how: 'fetched' }), 'r (fetched from host for backward)');
  assert.equal(label({ kind: 'restored', of: { kind: 'tensor', tensor: 'r' }, how: 'recomputed' }), 'r (recomputed for backward)');
  assert.equal(label({ kind: 'workspace', use: { kind: 'backward', node: 1 } }), 'backward workspace of Relu');
  assert.equal(label({ kind: 'gradient', tensor: 'W1', parameter: true }), 'gradient of W1');
  assert.equal(label({ kind: 'optimizer', parameter: 'W1' }), 'W1: Adam m, v in fp32 (8 B)');
});
