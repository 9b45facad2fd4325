import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemlensError } from '../../../extension/engine/errors';
import { withDefaults } from '../../../extension/engine/settings';
import { bindDims, bindInputValues } from '../../../extension/engine/shapes/bind-dims';
import { BATCH_ALIASES, SEQUENCE_ALIASES } from '../../../extension/engine/shapes/dim-aliases';
import { evaluateDimExpression } from '../../../extension/engine/shapes/dim-expression';
import { inferShapes } from '../../../extension/engine/shapes/infer';
import { model, node, vi } from './build';
import { parseCli } from '../../../extension/cli/args';

const parseDims = (d: string[]) => parseCli(['profile', 'm.onnx', ...d.flatMap((x) => ['--dim', x])]).settings.dims;

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
  assert.deepEqual({ ...dims }, {
    batch_size: 4, sequence_length: 256, Batch: 4, past_sequence_length: 256, N: 4, bs: 4, 'total-sequence-length': 256,
  });
  // No past length set: the cache takes the sequence length, and says how to set it.
  assert.deepEqual(warnings, ["dimension 'past_sequence_length' of input 'past_key' is 256, the sequence length, as no past length is set; set --past N or --dim past_sequence_length=N"]);
});

test('--past sizes the cache read in, and past + seq the dims over both', () => {
  const m = model({
    nodes: [],
    inputs: [
      vi('input_ids', 'int64', ['batch', 'sequence']),
      vi('past_key', 'float32', ['batch', 8, 'past_sequence_length', 64]),
      vi('mask', 'int64', ['batch', 'total_sequence_length']),
    ],
  });
  const { dims, warnings, sized } = bindDims(m, withDefaults({ batch: 1, seq: 1, past: 300 }));
  assert.deepEqual({ ...dims }, { batch: 1, sequence: 1, past_sequence_length: 300, total_sequence_length: 301 });
  assert.deepEqual(warnings, []);
  assert.deepEqual(sized, { batch: true, seq: true, past: true });
  // A model with no cache input says that --past sized nothing.
  const plain = model({ nodes: [], inputs: [vi('input_ids', 'int64', ['batch', 'sequence'])] });
  assert.match(bindDims(plain, withDefaults({ past: 300 })).warnings.join('\n'), /--past 300 sizes no dimension of this model/);
});

test('explicit --dim values come first, even over an alias', () => {
  const m = model({ nodes: [], inputs: [vi('x', 'int64', ['batch', 'seq', 'height'])] });
  const { dims, warnings } = bindDims(m, withDefaults({ batch: 2, seq: 16, dims: { seq: 99, height: 32 } }));
  assert.deepEqual({ ...dims }, { seq: 99, height: 32, batch: 2 });
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
  assert.deepEqual({ ...dims }, { s0: 4, s1: 256, s2: 256, x_dynamic_axes_1: 4 });
  // A size guessed from a position is never chosen silently.
  assert.deepEqual(warnings, [
    "dimension 's0' of input 'input_ids' is taken as the batch size from its position (axis 0): 4; set --batch N or --dim s0=N",
    "dimension 's1' of input 'input_ids' is taken as the sequence length from its position (axis 1): 256; set --seq N or --dim s1=N",
    "dimension 's2' of input 'past_key_values.0.key' is taken as the sequence length from its position (axis 2): 256; set --seq N or --dim s2=N",
    "dimension 'x_dynamic_axes_1' of input 'x' is taken as the batch size from its position (axis 0): 4; set --batch N or --dim x_dynamic_axes_1=N",
  ]);
});

test('unbound dims are reported with the input they belong to and how to set them', () => {
  const m = model({ nodes: [], inputs: [vi('x', 'float32', ['batch', 'foo', null]), vi('y', 'float32', ['foo'])] });
  const { dims, warnings } = bindDims(m, settings);
  assert.deepEqual({ ...dims }, { batch: 4 });
  assert.deepEqual(warnings, [
    "dimension 2 of input 'x' has neither a size nor a name; set it with --dim x:2=N",
    "dimension 'foo' of input 'x' is symbolic; set it with --dim foo=N",
  ]);
});

test('a dim bound from a default batch or sequence length is reported; one the user gave is not', () => {
  const m = model({ nodes: [], inputs: [vi('ids', 'int64', ['batch', 'sequence']), vi('pos', 'int64', ['unk__3', 'unk__4'])] });
  const defaults = bindDims(m, withDefaults({ explicit: [] }));
  assert.deepEqual({ ...defaults.dims }, { batch: 1, sequence: 128, unk__3: 1, unk__4: 128 });
  assert.deepEqual(defaults.warnings, [
    "dimension 'batch' of input 'ids' is 1, the default batch size; set --batch N or --dim batch=N",
    "dimension 'sequence' of input 'ids' is 128, the default sequence length; set --seq N or --dim sequence=N",
    "dimension 'unk__3' of input 'pos' is taken as the batch size from its position (axis 0): 1, the default; set --batch N or --dim unk__3=N",
    "dimension 'unk__4' of input 'pos' is taken as the sequence length from its position (axis 1): 128, the default; set --seq N or --dim unk__4=N",
  ]);
  const given = bindDims(m, withDefaults({ batch: 2, seq: 64, explicit: ['batch', 'seq'] }));
  assert.deepEqual(given.warnings.filter((w) => w.includes("'batch'") || w.includes("'sequence'")), []);
  assert.equal(given.warnings.length, 2, 'the positional guesses are still reported');
});

test('an axis with neither a size nor a name is sized by input and axis (--dim input:0=N)', () => {
  const m = model({
    inputs: [vi('input', 'float32', [null, null]), vi('state', 'float32', [2, null, 128])],
    outputs: [vi('y', 'float32', null)],
    nodes: [node('Add', ['input', 'input'], ['y'])],
  });
  const bound = bindDims(m, withDefaults({ dims: { 'input:0': 1, 'input:1': 512, 'state:1': 1 } }));
  assert.deepEqual(bound.warnings, []);
  const r = inferShapes(m, bound.dims);
  assert.deepEqual(r.tensors.get('input')?.shape, [1, 512]);
  assert.deepEqual(r.tensors.get('state')?.shape, [2, 1, 128]);
  assert.deepEqual(r.tensors.get('y')?.shape, [1, 512]);
  assert.deepEqual(r.unknown, []);
  // Left unset, the warning says how to set it.
  assert.deepEqual(bindDims(m, withDefaults({ dims: { 'input:0': 1, 'input:1': 512 } })).warnings, [
    "dimension 1 of input 'state' has neither a size nor a name; set it with --dim state:1=N",
  ]);
});

test('input:axis on a named axis binds the name; on a fixed axis or past the rank it is an error', () => {
  const m = model({ nodes: [], inputs: [vi('x', 'float32', ['frames', 80])] });
  assert.equal(bindDims(m, withDefaults({ dims: { 'x:0': 300 } })).dims.frames, 300);
  assert.throws(() => bindDims(m, withDefaults({ dims: { 'x:1': 40 } })), /^MemlensError: --dim x:1=40: axis 1 of input 'x' has the fixed size 80$/);
  assert.throws(() => bindDims(m, withDefaults({ dims: { 'x:2': 1 } })), /--dim x:2: input 'x' has 2 axes \(0 to 1\)/);
  assert.throws(() => bindDims(m, withDefaults({ dims: { 'x:0': 3, frames: 4 } })), /set the same dimension differently/);
});

test('--input values are checked: an input of one element, by name', () => {
  const m = model({ nodes: [], inputs: [vi('input', 'float32', [1, 512]), vi('sr', 'int64', []), vi('flag', 'bool', [1])] });
  assert.deepEqual({ ...bindInputValues(m, { sr: 16000, flag: 1 }) }, { sr: 16000, flag: 1 });
  assert.deepEqual({ ...bindInputValues(m, undefined) }, {});
  assert.throws(() => bindInputValues(m, { rate: 8000 }), /^MemlensError: --input rate: the model has no input 'rate' \(inputs: input, sr, flag\)$/);
  assert.throws(() => bindInputValues(m, { input: 0 }), /--input input=0: input 'input' has shape \[1,512\]; only an input of one element takes a value/);
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

test('dims named constructor, toString or __proto__ are dims like any other, bound from --dim', () => {
  const names = ['constructor', 'toString', '__proto__'];
  const m = model({ nodes: [node('Relu', ['x'], ['y'])], inputs: [vi('x', 'float32', names)] });
  // Before: `name in dims` found Object.prototype's members, so they counted as bound and sized nothing.
  const unbound = bindDims(m, withDefaults({}));
  assert.deepEqual(unbound.warnings, names.map((n) => `dimension '${n}' of input 'x' is symbolic; set it with --dim ${n}=N`));
  const given = parseDims(['constructor=2', 'toString=3', '__proto__=5']);
  const { dims } = bindDims(m, withDefaults({ dims: given }));
  assert.deepEqual(names.map((n) => Object.hasOwn(dims, n) ? dims[n] : null), [2, 3, 5]);
  assert.deepEqual(inferShapes(m, dims).tensors.get('y')?.shape, [2, 3, 5]);
});
