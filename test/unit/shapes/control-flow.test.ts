import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inferShapes } from '../../../extension/engine/shapes/infer';
import { a, graph, model, node, tensorOf, vi } from './build';

test('If: both branches agree on rank; differing dims become unknown', () => {
  const then = graph({ nodes: [node('Relu', ['x'], ['t_out'])], outputs: [vi('t_out', 'float32', null)] });
  const other = graph({ nodes: [node('Slice', ['x', 'st', 'en', 'ax'], ['e_out'])], outputs: [vi('e_out', 'float32', null)],
    initializers: [
      { name: 'st', dtype: 'int64', dims: [1], values: [0], external: false },
      { name: 'en', dtype: 'int64', dims: [1], values: [2], external: false },
      { name: 'ax', dtype: 'int64', dims: [1], values: [1], external: false },
    ] });
  const m = model({
    inputs: [vi('x', 'float32', [4, 6]), vi('c', 'bool', [])],
    nodes: [node('If', ['c'], ['y'], { then_branch: a.graph(then), else_branch: a.graph(other) })],
  });
  assert.deepEqual(tensorOf(inferShapes(m, {}), 'y'), { dtype: 'float32', shape: [4, null] });
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
