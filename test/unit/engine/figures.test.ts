// Sizes are validated at the edges and every figure of a profile is a finite number >= 0: the cases
// that used to print "NaN KiB" or "-64 B" now end in one line naming the input or node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeModel } from '../../../extension/engine/analyze';
import { MemlensError } from '../../../extension/engine/errors';
import { firstBadFigure } from '../../../extension/engine/figures-check';
import { withDefaults } from '../../../extension/engine/settings';
import type { Model } from '../../../extension/engine/graph';
import { init, model, node, vi } from '../shapes/build';

const analyse = (m: Model) => analyzeModel(m, withDefaults({}), { source: 'm.onnx', entry: null });
const oneLine = (re: RegExp) => (e: unknown) => e instanceof MemlensError && e.exitCode === 2 && re.test(e.message) && !e.message.includes('\n') && e.message.length <= 300;

test('a graph input with a negative or absurd size is refused, naming the input and axis', () => {
  for (const size of [-1, -3, -(2 ** 63), 2 ** 63]) {
    const m = model({ nodes: [node('Relu', ['x'], ['y'])], inputs: [vi('x', 'float32', [size, 4])] });
    assert.throws(() => analyse(m), oneLine(/^m\.onnx: input 'x' has size -?\d+ at axis 0; sizes must be whole numbers >= 0/));
  }
});

test('an initializer with a negative dim is refused', () => {
  const m = model({ nodes: [node('Relu', ['w'], ['y'])], initializers: [init('w', 'float32', [-3, 4])] });
  assert.throws(() => analyse(m), oneLine(/^m\.onnx: initializer 'w' has dims \[-3, 4\]; sizes must be whole numbers >= 0, at most 1125899906842624 elements$/));
});

test('Expand to a negative shape is refused at the node; Range with a NaN limit has an unknown size', () => {
  const expand = model({
    nodes: [node('Expand', ['x', 's'], ['y'])],
    inputs: [vi('x', 'float32', [1, 4])],
    initializers: [init('s', 'int64', [2], [-2, 4])],
  });
  assert.throws(() => analyse(expand), oneLine(/^node 'Expand_y' \(Expand\): output 0 would have shape \[-2, 4\]; sizes must be whole numbers >= 0$/));
  const range = model({
    nodes: [node('Range', ['a', 'b', 'c'], ['y'])],
    initializers: [init('a', 'float32', [], [0]), init('b', 'float32', [], [NaN]), init('c', 'float32', [], [1])],
  });
  const p = analyse(range);
  assert.equal(firstBadFigure(p), null);
  assert.equal(p.unknownTensors, 1);
  const huge = model({ nodes: [node('Relu', ['x'], ['y'])], inputs: [vi('x', 'float32', [2 ** 30, 2 ** 30])] });
  assert.throws(() => analyse(huge), oneLine(/^m\.onnx: input 'x' has shape \[1073741824, 1073741824\], over 1125899906842624 elements/));
});

test('a declared -1 in value info means unknown, not a size', () => {
  const m = model({
    nodes: [node('Relu', ['x'], ['h']), node('Relu', ['h'], ['y'])],
    inputs: [vi('x', 'float32', ['batch', 4])],
    valueInfo: [vi('h', 'float32', [-1, 4])],
  });
  const p = analyse(m);
  assert.equal(firstBadFigure(p), null);
  assert.ok(p.peak.bytes > 0);
});

test('a Conv reading a weight that nothing defines gives a warning, not "NaN != 58"', () => {
  const m = model({
    nodes: [node('Conv', ['x', 'w_missing'], ['y'])],
    inputs: [vi('x', 'float32', [1, 58, 8, 8])],
  });
  const p = analyse(m);
  assert.equal(firstBadFigure(p), null);
  assert.ok(p.warnings.some((w) => w.includes("name a tensor that nothing defines (first: 'w_missing' of node 'Conv_y')")), p.warnings.join(' | '));
  assert.ok(!p.warnings.join(' ').includes('NaN'));
});

test('firstBadFigure finds NaN, Infinity and negatives anywhere, and passes sound records', () => {
  assert.deepEqual(firstBadFigure({ a: [1, { bytes: NaN }] }), { path: 'a[1].bytes', value: NaN });
  assert.deepEqual(firstBadFigure({ peak: { bytes: -64 } }), { path: 'peak.bytes', value: -64 });
  assert.deepEqual(firstBadFigure([0, Infinity]), { path: '[1]', value: Infinity });
  assert.equal(firstBadFigure({ a: 'NaN', b: [0, 1.5], c: null }), null);
  // Deep in arrays of records, in typed arrays, and -Infinity; -0 is a sound zero.
  assert.deepEqual(firstBadFigure({ t: [{ by: { w: 0 } }, { by: { w: -Infinity } }] }), { path: 't[1].by.w', value: -Infinity });
  assert.deepEqual(firstBadFigure({ live: Float64Array.from([1, NaN]) }), { path: 'live.1', value: NaN });
  assert.equal(firstBadFigure({ z: -0, v: [[-0, 0]] }), null);
  // With several, one is named (the walk takes a record's last field first).
  assert.deepEqual(firstBadFigure({ a: [1, -1], b: NaN }), { path: 'b', value: NaN });
});
