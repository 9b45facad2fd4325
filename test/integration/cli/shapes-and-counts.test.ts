// Issue 12 item 8, as a user meets it: the real CLI on small ONNX models written here. Values
// computed from shapes (ConstantOfShape, Range, Pad) are sized on a static graph, checked against
// the sizes a real onnxruntime-node session requests; an input dim with neither a value nor a name
// takes --dim input:axis=N; a dim bound from a default says so; params count stored weights of
// every numeric dtype; a Constant fill is not a parameter and gets no gradient or optimizer state.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { Model } from '../../../extension/engine/graph';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import type { Profile } from '../../../extension/engine/profile';
import { GraphBuilder, int } from '../../fixtures/graph-builder';
import { expectHeldAsOrt } from '../engine/held-against-ort';

const ROOT = path.resolve(__dirname, '../../../..');
const BIN = path.join(ROOT, 'bin', 'memlens.js');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-item8-'));

function write(name: string, model: Model): string {
  const file = path.join(DIR, name);
  fs.writeFileSync(file, encodeModel(model));
  return file;
}

function profile(file: string, ...args: string[]): Profile {
  const r = spawnSync(process.execPath, [BIN, 'profile', file, '--json', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Profile;
}

/** y = Pad(x, pads from Shape(x)) + ConstantOfShape(Shape(x)); r = Range(0, x's second dim, 1). */
function shapeDerived(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [4, 256]);
  const s = b.one('Shape', [x], { name: 'shape' });
  const d1 = b.one('Gather', [s, b.ints([1])], { name: 'gather' });
  const zeros = b.one('ConstantOfShape', [s], { name: 'fill', attrs: { value: { kind: 'tensor', value: { name: 'v', dtype: 'float32', dims: [1], external: false, values: [0] } } } });
  const pads = b.one('Concat', [b.ints([0]), b.ints([0]), b.ints([0]), b.ints([0])], { name: 'pads', attrs: { axis: int(0) } });
  const padded = b.one('Pad', [x, pads], { name: 'pad' });
  b.op('Add', [padded, zeros], { name: 'add', outputs: ['y'] });
  const n = b.one('Squeeze', [d1], { name: 'squeeze' });
  b.op('Range', [b.scalar(0, 'int64'), n, b.scalar(1, 'int64')], { name: 'range', outputs: ['r'] });
  b.output('y', 'float32', [4, 256]);
  b.output('r', 'int64', [256]);
  return b.model(17);
}

describe('shapes and counts on the CLI (issue 12 item 8)', () => {
  it('values computed from shapes are sized: no unknown tensor, and every request as ORT makes it', async () => {
    const model = shapeDerived();
    const p = profile(write('shape-derived.onnx', model));
    assert.equal(p.unknownTensors, 0, p.warnings.join('\n'));
    await expectHeldAsOrt(encodeModel(model), 'shape-derived.onnx', 8);
  });

  it('an input dim with neither a value nor a name: a warning naming --dim x:0=N, and --dim x:0=3 sizes it', () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [null, 1024]);
    b.op('Relu', ['x'], { name: 'relu', outputs: ['y'] });
    b.output('y', 'float32', [null, 1024]);
    const file = write('unnamed-dim.onnx', b.model(17));
    const bare = profile(file);
    assert.ok(bare.warnings.some((w) => w.includes('--dim x:0=N')), bare.warnings.join('\n'));
    const set = profile(file, '--dim', 'x:0=3');
    assert.ok(!set.warnings.some((w) => w.includes('x:0')), set.warnings.join('\n'));
    // x and y: 3 x 1024 float32 each, both live at the Relu.
    assert.equal(set.peak.bytes, 2 * 3 * 1024 * 4);
  });

  it('a dim bound from the default batch or sequence length is named in a warning; set explicitly it is not', () => {
    const b = new GraphBuilder();
    b.input('ids', 'float32', ['batch', 'sequence']);
    b.op('Relu', ['ids'], { name: 'relu', outputs: ['y'] });
    b.output('y', 'float32', ['batch', 'sequence']);
    const file = write('named-dims.onnx', b.model(17));
    const bare = profile(file);
    assert.ok(bare.warnings.some((w) => w.includes("dimension 'batch'") && w.includes('default')), bare.warnings.join('\n'));
    assert.ok(bare.warnings.some((w) => w.includes("dimension 'sequence'") && w.includes('default')), bare.warnings.join('\n'));
    const set = profile(file, '--batch', '2', '--seq', '16');
    assert.ok(!set.warnings.some((w) => w.includes('default')), set.warnings.join('\n'));
  });

  it('params count stored weights of every numeric dtype (uint8 weight, int32 bias, float scale), not int64 shapes', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'uint8', [1, 64]);
    const w = b.weight('w', [64, 32], 'uint8');
    const y = b.one('MatMulInteger', [x, w], { name: 'mmi' });
    const bias = b.weight('bias', [32], 'int32');
    const acc = b.one('Add', [y, bias], { name: 'add' });
    const f = b.one('Cast', [acc], { name: 'cast', attrs: { to: int(1) } });
    const scaled = b.one('Mul', [f, b.weight('scale', [1])], { name: 'scale' });
    b.op('Reshape', [scaled, b.ints([32])], { name: 'reshape', outputs: ['out'] });
    b.output('out', 'float32', [32]);
    const p = profile(write('quantised.onnx', b.model(17)));
    assert.equal(p.params, 64 * 32 + 32 + 1);
  });

  it('a Constant fill (an LSTM-style zero state) is no parameter and gets no gradient or optimizer state', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 64]);
    const w = b.weight('w', [64, 64]);
    const h = b.one('MatMul', [x, w], { name: 'mm' });
    b.op('Constant', [], { name: 'h0', outputs: ['h0'], attrs: { value: { kind: 'tensor', value: { name: 'h0', dtype: 'float32', dims: [1, 64], external: false, values: new Array<number>(64).fill(0) } } } });
    b.op('Add', [h, 'h0'], { name: 'add', outputs: ['y'] });
    b.output('y', 'float32', [1, 64]);
    const p = profile(write('zero-state.onnx', b.model(17)), '--mode', 'train', '--optimizer', 'adamw');
    assert.equal(p.params, 64 * 64);
    assert.equal(p.trainableParams, 64 * 64);
    // float32 gradients and AdamW's two moments of w only.
    assert.equal(p.totals.gradientBytes, 64 * 64 * 4);
    assert.equal(p.totals.optimizerStateBytes, 2 * 64 * 64 * 4);
  });
});
