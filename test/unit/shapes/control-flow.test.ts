import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inferShapes } from '../../../extension/engine/shapes/infer';
import { a, graph, model, node, tensorOf, vi } from './build';

function sliceTo(width: number) {
  return graph({
    nodes: [node('Slice', ['x', 'st', 'en', 'ax'], ['e_out'])], outputs: [vi('e_out', 'float32', null)],
    initializers: [
      { name: 'st', dtype: 'int64', dims: [1], values: [0], external: false },
      { name: 'en', dtype: 'int64', dims: [1], values: [width], external: false },
      { name: 'ax', dtype: 'int64', dims: [1], values: [1], external: false },
    ],
  });
}

function ifModel(then: ReturnType<typeof graph>, other: ReturnType<typeof graph>, x: (number | null)[] = [4, 6]) {
  return model({
    inputs: [vi('x', 'float32', x), vi('c', 'bool', [])],
    nodes: [node('If', ['c'], ['y'], { then_branch: a.graph(then), else_branch: a.graph(other) }, '', 'gate')],
  });
}

test('If with a condition not known statically is sized by the larger branch, and says so', () => {
  const then = graph({ nodes: [node('Relu', ['x'], ['t_out'])], outputs: [vi('t_out', 'float32', null)] });
  const r = inferShapes(ifModel(then, sliceTo(2)), {});
  assert.deepEqual(tensorOf(r, 'y'), { dtype: 'float32', shape: [4, 6] });
  assert.deepEqual(r.branches.get('gate'), { taken: 'then_branch', why: 'larger' });
  // then: t_out [4, 6] = 96 B; else: the three int64 Slice arguments (24 B) and e_out [4, 2] = 32 B.
  assert.deepEqual(r.warnings, ["If 'gate': condition not known statically; sized by then_branch, the larger branch (96 B of tensors against 56 B); --branch gate=else (memlens.branches in the editor) sizes else_branch when that is the one that runs"]);
  // The other way round the else branch is the larger.
  const flipped = inferShapes(ifModel(sliceTo(2), then), {});
  assert.deepEqual(flipped.branches.get('gate'), { taken: 'else_branch', why: 'larger' });
  assert.deepEqual(tensorOf(flipped, 'y').shape, [4, 6]);
});

test('If branches with the same outputs: the one whose nodes make more bytes is the worse', () => {
  const relu = graph({ nodes: [node('Relu', ['x'], ['t_out'])], outputs: [vi('t_out', 'float32', null)] });
  const neg = graph({ nodes: [node('Neg', ['x'], ['e_out'])], outputs: [vi('e_out', 'float32', null)] });
  const alike = inferShapes(ifModel(relu, neg), {});
  assert.deepEqual(alike.warnings, [], 'alike branches need no warning');
  // A wide hidden layer inside the else branch: same output, four times the bytes in between.
  const wide = graph({
    nodes: [node('MatMul', ['x', 'up'], ['h']), node('MatMul', ['h', 'down'], ['e_out'])], outputs: [vi('e_out', 'float32', null)],
    initializers: [{ name: 'up', dtype: 'float32', dims: [6, 24], external: false }, { name: 'down', dtype: 'float32', dims: [24, 6], external: false }],
  });
  const r = inferShapes(ifModel(relu, wide), {});
  assert.deepEqual(r.branches.get('gate'), { taken: 'else_branch', why: 'larger' });
  // else: up 576 B + down 576 B + h [4, 24] 384 B + e_out 96 B = 1632 B; then: 96 B.
  assert.deepEqual(r.warnings, ["If 'gate': condition not known statically; sized by else_branch, the larger branch (1.6 KiB of tensors against 96 B); --branch gate=then (memlens.branches in the editor) sizes then_branch when that is the one that runs"]);
  const unknown = inferShapes(ifModel(relu, sliceTo(2), [null, 6]), {});
  assert.deepEqual(tensorOf(unknown, 'y').shape, [null, null]);
});

test('an If branch whose shapes cannot fit the inputs is left out, with a warning', () => {
  // MatMul of x [4, 6] with a [5, 3] weight cannot run: only the then branch can be the one that runs.
  const then = graph({ nodes: [node('Relu', ['x'], ['t_out'])], outputs: [vi('t_out', 'float32', null)] });
  const bad = graph({
    nodes: [node('MatMul', ['x', 'w'], ['e_out'])], outputs: [vi('e_out', 'float32', null)],
    initializers: [{ name: 'w', dtype: 'float32', dims: [5, 3], external: false }],
  });
  const r = inferShapes(ifModel(then, bad), {});
  assert.deepEqual(tensorOf(r, 'y').shape, [4, 6]);
  assert.deepEqual(r.branches.get('gate'), { taken: 'then_branch', why: 'only-valid' });
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /^If 'gate': condition not known statically; sized by then_branch, since else_branch does not fit these input shapes \(node 'MatMul_e_out' \(MatMul\): /);
});

test('subgraph bodies keep their tensor shapes in the result', () => {
  const then = graph({ nodes: [node('Relu', ['x'], ['t_out'])], outputs: [vi('t_out', 'float32', null)] });
  const r = inferShapes(ifModel(then, sliceTo(2)), {});
  assert.deepEqual(r.bodies.get('gate/then_branch')?.get('t_out')?.shape, [4, 6]);
  assert.deepEqual(r.bodies.get('gate/else_branch')?.get('e_out')?.shape, [4, 2]);
});

test('If with a folded condition takes that branch only', () => {
  const then = graph({ nodes: [node('Relu', ['x'], ['t_out'])], outputs: [vi('t_out', 'float32', null)] });
  const other = graph({ nodes: [node('Transpose', ['x'], ['e_out'])], outputs: [vi('e_out', 'float32', null)] });
  const m = model({
    inputs: [vi('x', 'float32', [4, 6])],
    initializers: [{ name: 'c', dtype: 'bool', dims: [], values: [0], external: false }],
    nodes: [node('If', ['c'], ['y'], { then_branch: a.graph(then), else_branch: a.graph(other) })],
  });
  assert.deepEqual(tensorOf(inferShapes(m, {}), 'y').shape, [6, 4]);
});

test('Loop: carried value keeps its shape, scan output stacks M iterations', () => {
  const body = graph({
    inputs: [vi('i', 'int64', []), vi('cond_in', 'bool', []), vi('acc_in', 'float32', null)],
    nodes: [
      node('Identity', ['cond_in'], ['cond_out']),
      node('Add', ['acc_in', 'w'], ['acc_out']),
      node('Mul', ['acc_out', 'w'], ['scan_out']),
    ],
    outputs: [vi('cond_out', 'bool', []), vi('acc_out', 'float32', null), vi('scan_out', 'float32', null)],
  });
  const m = model({
    inputs: [vi('acc0', 'float32', [2, 3]), vi('w', 'float32', [3])],
    initializers: [{ name: 'M', dtype: 'int64', dims: [], values: [5], external: false }],
    nodes: [node('Loop', ['M', '', 'acc0'], ['acc', 'stack'], { body: a.graph(body) })],
  });
  const r = inferShapes(m, {});
  assert.deepEqual(tensorOf(r, 'acc').shape, [2, 3]);
  assert.deepEqual(tensorOf(r, 'stack'), { dtype: 'float32', shape: [5, 2, 3] });
});

test('Loop whose carried value grows each iteration: the growing dim is unknown', () => {
  const body = graph({
    inputs: [vi('i', 'int64', []), vi('c', 'bool', []), vi('seq_in', 'float32', null)],
    nodes: [node('Identity', ['c'], ['c_out']), node('Concat', ['seq_in', 'step'], ['seq_out'], { axis: a.int(0) })],
    outputs: [vi('c_out', 'bool', []), vi('seq_out', 'float32', null)],
  });
  const m = model({
    inputs: [vi('seq0', 'float32', [1, 8]), vi('step', 'float32', [1, 8]), vi('n', 'int64', [])],
    nodes: [node('Loop', ['n', '', 'seq0'], ['seq'], { body: a.graph(body) })],
  });
  assert.deepEqual(tensorOf(inferShapes(m, {}), 'seq').shape, [null, 8]);
});

test('Scan: body sees slices, scan outputs gain the sequence axis', () => {
  const body = graph({
    inputs: [vi('h_in', 'float32', null), vi('x_t', 'float32', null)],
    nodes: [node('Add', ['h_in', 'x_t'], ['h_out']), node('Identity', ['h_out'], ['y_t'])],
    outputs: [vi('h_out', 'float32', null), vi('y_t', 'float32', null)],
  });
  const m = model({
    inputs: [vi('h0', 'float32', [4]), vi('xs', 'float32', [10, 4])],
    nodes: [node('Scan', ['h0', 'xs'], ['h', 'ys'], { body: a.graph(body), num_scan_inputs: a.int(1) })],
  });
  const r = inferShapes(m, {});
  assert.deepEqual([tensorOf(r, 'h').shape, tensorOf(r, 'ys').shape], [[4], [10, 4]]);
});

test('an unknown operator inside a Loop body is counted, and the Loop output falls back to its declaration', () => {
  const body = graph({
    inputs: [vi('i', 'int64', []), vi('c', 'bool', []), vi('v_in', 'float32', null)],
    nodes: [node('Identity', ['c'], ['c_out']), node('Mystery', ['v_in'], ['v_out'], {}, 'com.foo')],
    outputs: [vi('c_out', 'bool', []), vi('v_out', 'float32', null)],
  });
  const m = model({
    inputs: [vi('v0', 'float32', [3]), vi('n', 'int64', [])],
    nodes: [node('Loop', ['n', '', 'v0'], ['v'], { body: a.graph(body) })],
    valueInfo: [vi('v', 'float32', [3])],
  });
  const r = inferShapes(m, {});
  assert.deepEqual(tensorOf(r, 'v').shape, [3]);
  assert.deepEqual(r.warnings, ['unknown operator com.foo:Mystery (1 node): declared shapes used where present']);
});

test('an If on a graph input given a value (--input sr=16000) takes that branch, with no warning', () => {
  const then = graph({ nodes: [node('Relu', ['x'], ['t_out'])], outputs: [vi('t_out', 'float32', null)] });
  const m = model({
    inputs: [vi('x', 'float32', [4, 6]), vi('sr', 'int64', [])],
    initializers: [{ name: 'k', dtype: 'int64', dims: [], values: [16000], external: false }],
    nodes: [
      node('Equal', ['sr', 'k'], ['c']),
      node('If', ['c'], ['y'], { then_branch: a.graph(sliceTo(2)), else_branch: a.graph(then) }, '', 'gate'),
    ],
  });
  const at16k = inferShapes(m, {}, { sr: 16000 });
  assert.deepEqual(at16k.branches.get('gate'), { taken: 'then_branch', why: 'condition' });
  assert.deepEqual(tensorOf(at16k, 'y').shape, [4, 2]);
  assert.deepEqual(at16k.warnings, []);
  assert.deepEqual(inferShapes(m, {}, { sr: 8000 }).branches.get('gate'), { taken: 'else_branch', why: 'condition' });
  assert.deepEqual(inferShapes(m, {}).branches.get('gate'), { taken: 'else_branch', why: 'larger' });
});

test('a Loop appending to a sequence once per iteration, then ConcatFromSequence: known length and size', () => {
  // outs = []; for t in range(5): outs.append(proj(x)); torch.stack(outs): a scripted list append.
  const body = graph({
    inputs: [vi('i', 'int64', []), vi('cond_in', 'bool', []), vi('seq_in', 'float32', null)],
    nodes: [node('Identity', ['cond_in'], ['cond_out']), node('MatMul', ['x', 'w'], ['step']), node('SequenceInsert', ['seq_in', 'step'], ['seq_out'])],
    outputs: [vi('cond_out', 'bool', []), vi('seq_out', 'float32', null)],
    initializers: [{ name: 'w', dtype: 'float32', dims: [8, 3], external: false }],
  });
  const m = model({
    inputs: [vi('x', 'float32', [2, 8])],
    initializers: [{ name: 'trips', dtype: 'int64', dims: [], values: [5], external: false }, { name: 'go', dtype: 'bool', dims: [], values: [1], external: false }],
    nodes: [
      node('SequenceEmpty', [], ['empty'], { dtype: a.int(1) }),
      node('Loop', ['trips', 'go', 'empty'], ['list'], { body: a.graph(body) }),
      node('ConcatFromSequence', ['list'], ['stacked'], { axis: a.int(0), new_axis: a.int(1) }),
      node('ConcatFromSequence', ['list'], ['joined'], { axis: a.int(1) }),
      node('SequenceLength', ['list'], ['n']),
    ],
  });
  const r = inferShapes(m, {});
  assert.deepEqual(tensorOf(r, 'list'), { dtype: 'float32', shape: [2, 3], sequence: { length: 5 } });
  assert.deepEqual(tensorOf(r, 'stacked').shape, [5, 2, 3]);
  assert.deepEqual(tensorOf(r, 'joined').shape, [2, 15]);
  assert.deepEqual(tensorOf(r, 'n').value, [5]);
  assert.deepEqual(r.unknown, []);
});

test('SequenceConstruct, SequenceAt, SplitToSequence and SequenceErase keep element types and lengths', () => {
  const m = model({
    inputs: [vi('a', 'float32', [4, 6]), vi('b', 'float32', [4, 6])],
    initializers: [{ name: 'zero', dtype: 'int64', dims: [], values: [0], external: false }],
    nodes: [
      node('SequenceConstruct', ['a', 'b'], ['pair']),
      node('SequenceAt', ['pair', 'zero'], ['first']),
      node('SequenceErase', ['pair'], ['one']),
      node('SplitToSequence', ['a'], ['rows'], { axis: a.int(0), keepdims: a.int(0) }),
    ],
  });
  const r = inferShapes(m, {});
  assert.deepEqual(tensorOf(r, 'pair'), { dtype: 'float32', shape: [4, 6], sequence: { length: 2 } });
  assert.deepEqual(tensorOf(r, 'first'), { dtype: 'float32', shape: [4, 6] });
  assert.deepEqual(tensorOf(r, 'one').sequence, { length: 1 });
  assert.deepEqual(tensorOf(r, 'rows'), { dtype: 'float32', shape: [6], sequence: { length: 4 } });
});
