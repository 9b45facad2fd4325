// Which branch an If ran, from the names of the nodes that had kernel events: only nodes that one
// branch alone has count, and an If whose events show both branches, or neither, is not told.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { branchesRan } from '../../../extension/runner/branches-ran';
import { f32, graph, ifNode, model, node } from '../../fixtures/subgraphs';

const branch = (name: string, nodes: string[]) =>
  graph(name, { outputs: [f32(`${name}_out`)], nodes: nodes.map((n, i) => node(n, 'Neg', [i === 0 ? 'x' : `${name}_${i - 1}`], [i === nodes.length - 1 ? `${name}_out` : `${name}_${i}`])) });

function twoIfs() {
  const nested = ifNode('inner', 'c', ['then_out'], branch('ithen', ['i_then']), branch('ielse', ['i_else']));
  const outerThen = graph('then', { outputs: [f32('then_out')], nodes: [nested] });
  return model(graph('m', {
    inputs: [f32('x'), { name: 'c', dtype: 'bool', shape: [] }],
    outputs: [f32('y'), f32('z')],
    nodes: [
      ifNode('gate', 'c', ['y'], outerThen, branch('else', ['e_neg', 'shared'])),
      ifNode('twin', 'c', ['z'], branch('t2', ['shared']), branch('e2', ['e2_neg'])),
    ],
  }));
}

const events = (...names: string[]) => names.map((node) => ({ node }));

test('the branch whose own nodes had events is the one that ran, nested Ifs included', () => {
  const m = twoIfs();
  assert.deepEqual(branchesRan(m.graph, events('gate', 'i_then', 'inner', 'twin', 'e2_neg')), [
    { node: 'gate', ran: 'then_branch', seen: ['inner', 'i_then'] },
    { node: 'inner', ran: 'then_branch', seen: ['i_then'] },
    { node: 'twin', ran: 'else_branch', seen: ['e2_neg'] },
  ]);
  assert.deepEqual(branchesRan(m.graph, events('gate', 'e_neg', 'shared', 'twin', 'shared')), [
    { node: 'gate', ran: 'else_branch', seen: ['e_neg'] },
  ], "a name two graphs share ('shared') tells nothing; an If with no events of its own branches is left out");
});

test('an If whose events show both branches (a Loop body taking each in turn) is not told', () => {
  assert.deepEqual(branchesRan(twoIfs().graph, events('i_then', 'i_else', 'e2_neg')).map((b) => b.node), ['gate', 'twin']);
});
