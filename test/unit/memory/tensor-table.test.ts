import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTensorTable } from '../../../extension/engine/memory/tensor-table';
import { withDefaults } from '../../../extension/engine/settings';
import type { InferredTensor } from '../../../extension/engine/shapes/types';
import { model, node, vi } from '../shapes/build';

test('a sequence stores length x element bytes; an empty one stores nothing and is known', () => {
  const m = model({
    inputs: [vi('x', 'float32', [2, 3])],
    nodes: [node('SequenceEmpty', [], ['empty']), node('SequenceInsert', ['empty', 'x'], ['list']), node('SplitToSequence', ['x'], ['open'])],
  });
  const shapes = new Map<string, InferredTensor>([
    ['x', { dtype: 'float32', shape: [2, 3] }],
    ['empty', { dtype: 'float32', shape: null, sequence: { length: 0 } }],
    ['list', { dtype: 'float32', shape: [2, 3], sequence: { length: 5 } }],
    ['open', { dtype: 'float32', shape: [3], sequence: { length: null } }],
  ]);
  const table = buildTensorTable(m, [0, 1, 2], shapes, withDefaults({}));
  assert.deepEqual([table.tensors.get('empty')!.bytes, table.tensors.get('empty')!.known], [0, true]);
  assert.equal(table.tensors.get('list')!.bytes, 5 * 2 * 3 * 4);
  assert.equal(table.tensors.get('open')!.known, false);
  assert.equal(table.unknown, 1);
});
