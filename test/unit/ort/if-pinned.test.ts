// The activation arena of an If whose condition is a graph input (not known statically), sized by
// each branch in turn through settings' `branches`: the simulated arena peak follows the branch's
// own tensors. The same model runs for real in test/integration/runner/branch-ran.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeModel } from '../../../extension/engine/analyze';
import { withDefaults, type IfBranch } from '../../../extension/engine/settings';
import { inputGatedModel } from '../../fixtures/subgraphs';

/** 256 KiB: one float32 tensor of the fixtures' arena shape [1, 64, 1024]. */
const T = 64 * 1024 * 4;

function arena(branches?: Record<string, IfBranch>) {
  const p = analyzeModel(inputGatedModel(), withDefaults(branches ? { branches } : {}), { source: 'gated.onnx', entry: null });
  return { peak: p.ortHeld!.requestedPeakBytes, branches: p.branches, warnings: p.warnings };
}

test('pinning each branch of an If sizes the arena by that branch', () => {
  const larger = arena();
  const toThen = arena({ gate: 'then_branch' });
  const toElse = arena({ gate: 'else_branch' });
  assert.deepEqual(larger.branches, [{ node: 'gate', taken: 'then_branch', why: 'larger' }]);
  assert.deepEqual(toElse.branches, [{ node: 'gate', taken: 'else_branch', why: 'pinned' }]);
  assert.equal(toThen.peak, larger.peak, 'the larger branch pinned is the static estimate');
  // else: the If's output and Exp's ea are live at once (then post's y beside the output): 2 tensors.
  assert.equal(toElse.peak, 2 * T);
  // then: the If's output, ta and tb are live when Add makes tc: 4 tensors.
  assert.equal(toThen.peak, 4 * T);
  assert.deepEqual(toElse.warnings, [], 'a pinned If needs no warning');
  assert.match(larger.warnings.join('\n'), /--branch gate=else \(memlens\.branches in the editor\) sizes else_branch when that is the one that runs/);
});

test('a pin naming no If node is a warning and changes nothing', () => {
  const r = arena({ If_32: 'else_branch' });
  assert.equal(r.peak, arena().peak);
  assert.equal(r.warnings[0], "--branch If_32: no If node named 'If_32' in the model (its If nodes: gate); the pin is ignored");
});
