// computeStride as aten has it (TensorUtils.cpp): whether a view can take a new shape, with
// worked cases PyTorch itself gives (`x.t().view(-1)` raises; `x.split(n, -1)[0].view(..)` splitting
// only the last dim is a view; merging across the split is not).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeStride } from '../../../extension/engine/memory/torch-views';

test('contiguous tensors view into any shape with contiguous strides', () => {
  assert.deepEqual(computeStride([2, 3, 4], [12, 4, 1], [6, 4]), [4, 1]);
  assert.deepEqual(computeStride([2, 3, 4], [12, 4, 1], [2, 3, 2, 2]), [12, 4, 2, 1]);
  assert.deepEqual(computeStride([2, 3], [3, 1], [1, 2, 1, 3]), [6, 3, 3, 1]);
});

test('a transposed tensor cannot be flattened as a view (torch: "view size is not compatible")', () => {
  // x = torch.zeros(3, 4).t(): shape (4, 3), strides (1, 4)
  assert.equal(computeStride([4, 3], [1, 4], [12]), null);
  // but splitting one of its dims is fine: x.t().view(2, 2, 3) has strides (2, 1, 4)
  assert.deepEqual(computeStride([4, 3], [1, 4], [2, 2, 3]), [2, 1, 4]);
});

test('a slice of the last dim views when only that dim is split, and copies when merged with the sliced dim', () => {
  // qkv (2, 8, 384) split in 3 along -1: q has shape (2, 8, 128) and strides (3072, 384, 1)
  assert.deepEqual(computeStride([2, 8, 128], [3072, 384, 1], [2, 8, 4, 32]), [3072, 384, 32, 1]);
  assert.deepEqual(computeStride([2, 8, 128], [3072, 384, 1], [16, 128]), [384, 1]);
  assert.equal(computeStride([2, 8, 128], [3072, 384, 1], [2, 1024]), null);
});
