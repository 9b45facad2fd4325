// The offset planner on graphs built to make greedy-by-size quadratic: a Split with 10^5 outputs
// all live at once is planned in O(n log n) (its outputs form one block), and buffers that overlap
// in 40,000 distinct ways are refused in one line, quickly, instead of blocking for minutes.
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

test('a Split with 100,000 outputs is planned within seconds: every output at its own offset', () => {
  const t0 = Date.now();
  const p = analyzeModel(split(100_000), withDefaults({}), { source: 'split.onnx', entry: null });
  // The outputs (16 B each) are all live together after the Split, the input is freed by then.
  assert.equal(p.plan.idealPeakBytes, 100_000 * 16);
  assert.equal(p.plan.offsetPlanBytes, 100_000 * 16);
  assert.ok(Date.now() - t0 < 20_000, `took ${Date.now() - t0} ms`);
});

test('40,000 buffers all live at one step but each over different steps are refused in one line', () => {
  const n = 40_000;
  // Largest first: each new buffer overlaps every placed one in time and none ends where another
  // with the same steps starts, so first fit walks all of them: n(n-1)/2 = 8*10^8 checks.
  const buffers = Array.from({ length: n }, (_, i) => ({ bytes: n - i, start: i, end: n + i, persistent: false }));
  const t0 = Date.now();
  assert.throws(
    () => planOffsets(buffers, 2 * n + 1, 'stagger.onnx'),
    (e: unknown) => e instanceof MemlensError && /^stagger\.onnx: 40000 transient buffers overlap in too many ways to plan their offsets within bounds/.test(e.message) && e.message.length <= 300,
  );
  assert.ok(Date.now() - t0 < 15_000, `took ${Date.now() - t0} ms`);
});

test('a Split with 2,000 outputs is planned: every output at its own offset, 16 B each', () => {
  const p = analyzeModel(split(2000), withDefaults({}), { source: 'split.onnx', entry: null });
  // All 2,000 outputs are live together after the Split: perfect reuse and the plan both need 2000*16 B.
  assert.equal(p.plan.idealPeakBytes, 2000 * 16);
  assert.equal(p.plan.offsetPlanBytes, 2000 * 16);
});
