import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemlensError } from '../../../extension/engine/errors';
import { withDefaults } from '../../../extension/engine/settings';
import { bindDims } from '../../../extension/engine/shapes/bind-dims';
import { BATCH_ALIASES, SEQUENCE_ALIASES } from '../../../extension/engine/shapes/dim-aliases';
import { evaluateDimExpression } from '../../../extension/engine/shapes/dim-expression';
import { model, vi } from './build';

const settings = withDefaults({ batch: 4, seq: 256 });

test('batch and sequence aliases bind from settings, ignoring case and separators', () => {
  const m = model({
    nodes: [],
    inputs: [
      vi('input_ids', 'int64', ['batch_size', 'sequence_length']),
      vi('past_key', 'float16', ['Batch', 8, 'past_sequence_length', 64]),
      vi('pixel', 'float32', ['N', 3, 224, 224]),
      vi('mask', 'int64', ['bs', 'total-sequence-length']),
    ],
  });
  const { dims, warnings } = bindDims(m, settings);
  assert.deepEqual(dims, {
    batch_size: 4, sequence_length: 256, Batch: 4, past_sequence_length: 256, N: 4, bs: 4, 'total-sequence-length': 256,
  });
  assert.deepEqual(warnings, []);
});

test('explicit --dim values come first, even over an alias', () => {
  const m = model({ nodes: [], inputs: [vi('x', 'int64', ['batch', 'seq', 'height'])] });
  const { dims, warnings } = bindDims(m, withDefaults({ batch: 2, seq: 16, dims: { seq: 99, height: 32 } }));
  assert.deepEqual(dims, { seq: 99, height: 32, batch: 2 });
  assert.deepEqual(warnings, []);
});

test('arithmetic dim names evaluate over bound dims', () => {
  const m = model({ nodes: [], inputs: [vi('mask', 'int64', ['batch_size', 'past_sequence_length + 1']), vi('enc', 'float32', ['batch_size', 'encoder_sequence_length / 2', 384])] });
  const { dims } = bindDims(m, settings);
  assert.equal(dims['past_sequence_length + 1'], 257);
  assert.equal(dims['encoder_sequence_length / 2'], 128);
  assert.equal(evaluateDimExpression('2*(s0 + 3) - 1', (n) => (n === 's0' ? 5 : undefined)), 15);
  assert.equal(evaluateDimExpression('s0 + +', () => 1), undefined);
  assert.equal(evaluateDimExpression('foo + 1', () => undefined), undefined);
});

test('exporter-generated names bind by position: axis 0 batch, axis 1 of ids sequence, axis 2 of a cache', () => {
  const m = model({
    nodes: [],
    inputs: [
      vi('input_ids', 'int64', ['s0', 's1']),
      vi('past_key_values.0.key', 'float32', ['s0', 4, 's2', 32]),
      vi('x', 'float32', ['x_dynamic_axes_1', 10]),
    ],
  });
  const { dims, warnings } = bindDims(m, settings);
  assert.deepEqual(dims, { s0: 4, s1: 256, s2: 256, x_dynamic_axes_1: 4 });
  assert.deepEqual(warnings, []);
});

test('unbound dims are reported with the input they belong to and how to set them', () => {
  const m = model({ nodes: [], inputs: [vi('x', 'float32', ['batch', 'foo', null]), vi('y', 'float32', ['foo'])] });
  const { dims, warnings } = bindDims(m, settings);
  assert.deepEqual(dims, { batch: 4 });
  assert.deepEqual(warnings, [
    "dimension 2 of input 'x' has neither a size nor a name; sizes that depend on it are unknown",
    "dimension 'foo' of input 'x' is symbolic; set it with --dim foo=N",
  ]);
});

test('bad sizes are one-line MemlensErrors', () => {
  const m = model({ nodes: [], inputs: [] });
  assert.throws(() => bindDims(m, withDefaults({ dims: { foo: -1 } })), (e: unknown) => e instanceof MemlensError && e.message === '--dim foo must be an integer >= 0, got -1');
  assert.throws(() => bindDims(m, withDefaults({ batch: 0 })), /batch must be an integer >= 1, got 0/);
});

test('the alias tables are exported and do not overlap', () => {
  assert.ok(BATCH_ALIASES.includes('batch_size') && SEQUENCE_ALIASES.includes('past_sequence_length'));
  assert.deepEqual(BATCH_ALIASES.filter((n) => SEQUENCE_ALIASES.includes(n)), []);
});
