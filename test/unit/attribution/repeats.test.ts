// How often a line ran, from its nodes: calls in indexed instances, not module names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineRepeats, type LineNode } from '../../../extension/engine/attribution/repeats';

const n = (opType: string, scope: string): LineNode => ({ opType, scope });

test('named stages of indexed blocks count every block (ResNet layer1.0 .. layer4.2)', () => {
  const nodes: LineNode[] = [];
  [3, 4, 6, 3].forEach((blocks, s) => {
    for (let i = 0; i < blocks; i++) nodes.push(n('Conv', `layer${s + 1}.${i}.conv2`), n('Relu', `layer${s + 1}.${i}.relu`));
  });
  assert.equal(lineRepeats(nodes), 16);
});

test('a Sequential\'s children called from one line are one call per block', () => {
  const nodes = [1, 2, 3].flatMap((s) => [n('Conv', `layer${s}.0.downsample.0`), n('BatchNormalization', `layer${s}.0.downsample.1`)]);
  assert.equal(lineRepeats(nodes), 3);
});

test('two modules of one block called from one line ran once per block; unindexed modules once', () => {
  assert.equal(lineRepeats([n('MatMul', 'h.0.q'), n('MatMul', 'h.0.k'), n('MatMul', 'h.1.q'), n('MatMul', 'h.1.k')]), 2);
  assert.equal(lineRepeats([n('Conv', 'conv1'), n('Conv', 'conv2')]), 1);
  assert.equal(lineRepeats([n('Add', 'layers.0'), n('Add', 'layers.0')]), 1);
  assert.equal(lineRepeats([]), 1);
});
