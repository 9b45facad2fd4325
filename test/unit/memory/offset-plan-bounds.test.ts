// The offset planner on graphs built to make greedy-by-size quadratic: a Split with 10^5 outputs
// all live at once is planned with O(n) placement checks (its outputs form one block), and buffers
// that overlap in 40,000 distinct ways are refused in one line once the checks pass their bound,
// instead of blocking for minutes. The work is counted, not timed: timings on a shared machine
// belong to `npm run bench`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeModel } from '../../../extension/engine/analyze';
import { MemlensError } from '../../../extension/engine/errors';
import { planOffsets } from '../../../extension/engine/memory/offset-plan';
import { withDefaults } from '../../../extension/engine/settings';
import { a, model, node, vi } from '../shapes/build';

function split(n: number) {
  const outs = Array.from({ length: n }, (_, i) => `o${i}`);
  return model({
    nodes: [node('Split', ['x'], outs, { axis: a.int(0), num_outputs: a.int(n) })],
    inputs: [vi('x', 'float32', [n, 4])],
    outputs: outs.map((o) => vi(o, 'float32', [1, 4])),
  }, { '': 18 });
}

test('a Split with 100,000 outputs is planned: every output at its own offset', () => {
  const p = analyzeModel(split(100_000), withDefaults({}), { source: 'split.onnx', entry: null });
  // The outputs (16 B each) are all live together after the Split, the input is freed by then.
  assert.equal(p.plan.idealPeakBytes, 100_000 * 16);
  assert.equal(p.plan.offsetPlanBytes, 100_000 * 16);
});

test('the Split\'s 100,000 buffers, all live at once, cost one placement check each', () => {
  const n = 100_000;
  const plan = planOffsets(Array.from({ length: n }, () => ({ bytes: 16, start: 1, end: 2, persistent: false })), 3, 'split.onnx');
  assert.equal(plan.arenaBytes, n * 16);
  // Each buffer after the first walks the one block the earlier ones joined: n - 1 checks, not n(n-1)/2.
  assert.equal(plan.checks, n - 1);
});

test('40,000 buffers all live at one step but each over different steps are refused in one line', () => {
  const n = 40_000;
  // Largest first: each new buffer overlaps every placed one in time and none ends where another
  // with the same steps starts, so first fit walks all of them: n(n-1)/2 = 8*10^8 checks.
  const buffers = Array.from({ length: n }, (_, i) => ({ bytes: n - i, start: i, end: n + i, persistent: false }));
  assert.throws(
    () => planOffsets(buffers, 2 * n + 1, 'stagger.onnx'),
    (e: unknown) => e instanceof MemlensError && /^stagger\.onnx: 40000 transient buffers overlap in too many ways to plan their offsets within bounds/.test(e.message) && e.message.length <= 300,
  );
});

test('a Split with 2,000 outputs is planned: every output at its own offset, 16 B each', () => {
  const p = analyzeModel(split(2000), withDefaults({}), { source: 'split.onnx', entry: null });
  // All 2,000 outputs are live together after the Split: perfect reuse and the plan both need 2000*16 B.
  assert.equal(p.plan.idealPeakBytes, 2000 * 16);
  assert.equal(p.plan.offsetPlanBytes, 2000 * 16);
});
