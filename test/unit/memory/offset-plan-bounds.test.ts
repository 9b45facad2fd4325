// The offset planner on a graph built to make greedy-by-size quadratic: a Split with 10^5 outputs
// all live at once is refused in one line, quickly, instead of blocking for minutes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeModel } from '../../../extension/engine/analyze';
import { MemlensError } from '../../../extension/engine/errors';
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

test('a Split with 100,000 outputs is refused in one line within seconds', () => {
  const t0 = Date.now();
  assert.throws(
    () => analyzeModel(split(100_000), withDefaults({}), { source: 'split.onnx', entry: null }),
    (e: unknown) => e instanceof MemlensError && /^split\.onnx: 100000 transient buffers, too many to plan their offsets within bounds/.test(e.message) && e.message.length <= 300,
  );
  assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
});

test('a Split with 2,000 outputs is planned: every output at its own offset, 16 B each', () => {
  const p = analyzeModel(split(2000), withDefaults({}), { source: 'split.onnx', entry: null });
  // All 2,000 outputs are live together after the Split: perfect reuse and the plan both need 2000*16 B.
  assert.equal(p.plan.idealPeakBytes, 2000 * 16);
  assert.equal(p.plan.offsetPlanBytes, 2000 * 16);
});
