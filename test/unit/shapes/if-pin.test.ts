// An If pinned to a branch (settings' `branches`, `--branch NODE=then|else`): sized by that branch
// unless the condition folds; a pin naming no If node, or contradicting a folded condition, is one
// warning line naming the node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inferShapes } from '../../../extension/engine/shapes/infer';
import { a, graph, model, node, tensorOf, vi } from './build';

const relu = () => graph({ nodes: [node('Relu', ['x'], ['t_out'])], outputs: [vi('t_out', 'float32', null)] });
/** x [4, 6] -> [4, 2]: 24 B of Slice arguments and a 32 B output, smaller than relu's 96 B. */
const slice = () => graph({
  nodes: [node('Slice', ['x', 'st', 'en', 'ax'], ['e_out'])], outputs: [vi('e_out', 'float32', null)],
  initializers: [
    { name: 'st', dtype: 'int64', dims: [1], values: [0], external: false },
    { name: 'en', dtype: 'int64', dims: [1], values: [2], external: false },
    { name: 'ax', dtype: 'int64', dims: [1], values: [1], external: false },
  ],
});

/** If 'gate' on a bool graph input: the condition is not known statically. */
function gated(then = relu(), other = slice()) {
  return model({
    inputs: [vi('x', 'float32', [4, 6]), vi('c', 'bool', [])],
    nodes: [node('If', ['c'], ['y'], { then_branch: a.graph(then), else_branch: a.graph(other) }, '', 'gate')],
  });
}

test('a pinned If is sized by the branch the pin names, with no warning', () => {
  const larger = inferShapes(gated(), {});
  assert.deepEqual(larger.branches.get('gate'), { taken: 'then_branch', why: 'larger' });
  const toElse = inferShapes(gated(), {}, {}, true, { gate: 'else_branch' });
  assert.deepEqual(toElse.branches.get('gate'), { taken: 'else_branch', why: 'pinned' });
  assert.deepEqual(tensorOf(toElse, 'y').shape, [4, 2]);
  assert.deepEqual(toElse.warnings, []);
  const toThen = inferShapes(gated(), {}, {}, true, { gate: 'then_branch' });
  assert.deepEqual(toThen.branches.get('gate'), { taken: 'then_branch', why: 'pinned' });
  assert.deepEqual(tensorOf(toThen, 'y').shape, [4, 6]);
});

test('a pin naming no If node is one warning line naming it, and pins nothing', () => {
  const r = inferShapes(gated(), {}, {}, true, { If_32: 'else_branch', Relu_t_out: 'then_branch' });
  assert.deepEqual(r.branches.get('gate'), { taken: 'then_branch', why: 'larger' });
  assert.deepEqual(r.warnings.slice(0, 2), [
    "--branch If_32: no If node named 'If_32' in the model (its If nodes: gate); the pin is ignored",
    "--branch Relu_t_out: no If node named 'Relu_t_out' in the model (its If nodes: gate); the pin is ignored",
  ]);
});

test('a pin against a folded condition is ignored, and says so', () => {
  const m = model({
    inputs: [vi('x', 'float32', [4, 6])],
    initializers: [{ name: 'c', dtype: 'bool', dims: [], values: [1], external: false }],
    nodes: [node('If', ['c'], ['y'], { then_branch: a.graph(relu()), else_branch: a.graph(slice()) }, '', 'gate')],
  });
  const r = inferShapes(m, {}, {}, true, { gate: 'else_branch' });
  assert.deepEqual(r.branches.get('gate'), { taken: 'then_branch', why: 'condition' });
  assert.deepEqual(tensorOf(r, 'y').shape, [4, 6]);
  assert.deepEqual(r.warnings, ["If 'gate': --branch gate=else is ignored: the condition is known statically and selects then_branch"]);
  assert.deepEqual(inferShapes(m, {}, {}, true, { gate: 'then_branch' }).warnings, [], 'a pin that agrees needs no word');
});

test('an If nested in a branch is pinned by its own name', () => {
  const inner = node('If', ['c'], ['o_out'], { then_branch: a.graph(relu()), else_branch: a.graph(slice()) }, '', 'inner');
  const outer = graph({ nodes: [inner], outputs: [vi('o_out', 'float32', null)] });
  const r = inferShapes(gated(outer, relu()), {}, {}, true, { inner: 'else_branch', gate: 'then_branch' });
  assert.deepEqual(r.branches.get('inner'), { taken: 'else_branch', why: 'pinned' });
  assert.deepEqual(tensorOf(r, 'y').shape, [4, 2]);
  assert.ok(!r.warnings.some((w) => w.startsWith('--branch')), r.warnings.join('\n'));
});

test('a pinned branch whose shapes cannot fit the inputs is refused with a warning', () => {
  const bad = graph({
    nodes: [node('MatMul', ['x', 'w'], ['e_out'])], outputs: [vi('e_out', 'float32', null)],
    initializers: [{ name: 'w', dtype: 'float32', dims: [5, 3], external: false }],
  });
  const r = inferShapes(gated(relu(), bad), {}, {}, true, { gate: 'else_branch' });
  assert.deepEqual(r.branches.get('gate'), { taken: 'then_branch', why: 'only-valid' });
  assert.match(r.warnings[0], /^If 'gate': --branch gate=else is ignored: else_branch does not fit these input shapes \(node 'MatMul_e_out' \(MatMul\): /);
});
