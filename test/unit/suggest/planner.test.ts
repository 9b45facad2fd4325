// The budget planner against brute force: every subset of checkpointed layers analysed in full.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeModel } from '../../../extension/engine/analyze';
import { applyRewrites } from '../../../extension/engine/onnx-rewrite/apply';
import { withDefaults } from '../../../extension/engine/settings';
import { fitBudget, search } from '../../../extension/engine/suggest/planner';
import { analysisContext } from '../../../extension/engine/suggest/context';
import { layerLoops } from '../../../extension/engine/suggest/scopes';
import { mlpStack } from '../../fixtures/layered-models';
import { suggestRewrites } from '../../../extension/engine/suggest/suggest';
import { planPicks } from '../../../extension/presentation/suggestion-actions';

const train = withDefaults({ mode: 'train', optimizer: 'sgd', dtype: 'bf16' });

test('fitBudget finds the cheapest set of layers to checkpoint (brute force over all 2^5 subsets)', () => {
  const m = mlpStack({ layers: 5, batch: 512, hidden: 8, ffn: 64, ffns: [96, 32, 128, 64, 48] });
  const ctx = analysisContext(m, train, 'm');
  const loop = layerLoops(ctx.origins)[0];
  const flops = loop.layers.map((l) => l.nodes.reduce((a, p) => a + ctx.flops[p], 0));
  const subsets: { peak: number; share: number; set: number[] }[] = [];
  for (let mask = 0; mask < 1 << 5; mask++) {
    const set = [0, 1, 2, 3, 4].filter((i) => mask & (1 << i));
    const rewrites = set.length ? [{ kind: 'checkpoint' as const, regions: set.map((i) => ({ id: `r${i}`, scope: loop.layers[i].scope, nodes: loop.layers[i].nodes.map((p) => ctx.table.nodes[p].name) })) }] : [];
    const peak = analyzeModel(applyRewrites(m, rewrites), train, { source: 'm', entry: null }).peak.bytes;
    subsets.push({ peak, share: set.reduce((a, i) => a + flops[i], 0) / ctx.forwardFlops, set });
  }
  const peaks = [...new Set(subsets.map((s) => s.peak))].sort((a, b) => a - b);
  assert.ok(peaks.length >= 3, `subsets differ in peak: ${peaks.join(', ')}`);
  for (const budget of peaks) {
    const best = Math.min(...subsets.filter((s) => s.peak <= budget).map((s) => s.share));
    const plan = fitBudget(m, train, budget, { source: 'm', target: 'onnx' });
    assert.equal(plan.fits, true);
    assert.equal(plan.method, 'exact');
    assert.ok(plan.chosen.verifiedPeakBytes <= budget);
    assert.equal(plan.chosen.verifiedPeakBytes, plan.chosen.predictedPeakBytes, 'per-layer sums are exact');
    assert.ok(Math.abs(plan.chosen.recomputeShare - best) < 1e-12, `budget ${budget}: plan ${plan.chosen.recomputeShare} vs brute force ${best}`);
  }
  const below = fitBudget(m, train, peaks[0] - 1, { source: 'm', target: 'onnx' });
  assert.equal(below.fits, false);
  assert.equal(below.chosen.verifiedPeakBytes, peaks[0]);
  assert.match(below.message, /cannot be met.*lowest reachable peak/);
});

test('the frontier is Pareto: no point has both a lower peak and a lower cost than another', () => {
  const m = mlpStack({ layers: 4, batch: 512, hidden: 8, ffn: 64, ffns: [96, 32, 128, 64] });
  const plan = fitBudget(m, withDefaults({ mode: 'train', optimizer: 'sgd' }), 1, { source: 'm' });
  assert.ok(plan.frontier.length >= 2);
  for (const a of plan.frontier) {
    for (const b of plan.frontier) {
      if (a === b) continue;
      assert.ok(!(b.peakBytes < a.peakBytes && b.accuracyTier <= a.accuracyTier && b.recomputeShare <= a.recomputeShare), 'dominated point in the frontier');
    }
  }
});

test('branch and bound equals exhaustive search on random instances', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + Math.floor(rnd() * 7);
    const steps = 1 + Math.floor(rnd() * 6);
    const base = Float64Array.from({ length: steps }, () => 50 + Math.floor(rnd() * 50));
    const layers = Array.from({ length: n }, () => ({ share: 0.05 + rnd(), delta: Float64Array.from({ length: steps }, () => -Math.floor(rnd() * 20)) }));
    const budget = 40 + Math.floor(rnd() * 60);
    let best = Infinity;
    for (let mask = 0; mask < 1 << n; mask++) {
      let share = 0;
      const cur = Float64Array.from(base);
      for (let i = 0; i < n; i++) if (mask & (1 << i)) { share += layers[i].share; layers[i].delta.forEach((d, k) => (cur[k] += d)); }
      if (Math.max(...cur) <= budget) best = Math.min(best, share);
    }
    const r = search({ base, layers }, budget, 1e6);
    assert.equal(r.complete, true);
    if (best === Infinity) assert.equal(r.chosen, null);
    else assert.ok(Math.abs(r.share - best) < 1e-9, `trial ${trial}: ${r.share} vs ${best}`);
  }
});

test('a node limit gives a near-optimal answer with a valid lower bound', () => {
  const layers = Array.from({ length: 16 }, (_, i) => ({ share: 1 + (i % 3) * 0.1, delta: Float64Array.from([-(10 + i), -(5 + (i % 4))]) }));
  const base = Float64Array.from([400, 300]);
  const r = search({ base, layers }, 260, 50);
  assert.equal(r.complete, false);
  const exact = search({ base, layers }, 260, 1e7);
  assert.equal(exact.complete, true);
  assert.ok(r.lowerBound <= exact.share + 1e-9);
});

test('a plan that checkpoints layers with Dropout carries the same typed caveat as the suggestion, and its picks do not say exact', () => {
  const m = mlpStack({ layers: 2, batch: 256, hidden: 16, ffn: 64, dropout: true });
  const base = analyzeModel(m, train, { source: 'm', entry: null });
  const plan = fitBudget(m, train, base.peak.bytes - 1, { source: 'm', target: 'onnx' });
  assert.ok(plan.chosen.checkpointed.length > 0, 'the plan checkpoints layers');
  assert.equal(plan.chosen.accuracyTier, 0);
  assert.deepEqual(plan.chosen.caveats, [{ kind: 'recomputes-random', ops: ['Dropout'] }]);
  const s = suggestRewrites(m, train, { source: 'm' }).find((x) => x.id === 'checkpoint:blocks')!;
  assert.deepEqual(s.caveats, plan.chosen.caveats);
  // The frontier point that checkpoints nothing recomputes nothing.
  assert.ok(plan.frontier.filter((p) => p.checkpointed.length === 0).every((p) => p.caveats.length === 0));
  const picks = planPicks(plan);
  assert.match(picks[0].description, /recomputes Dropout \(new random numbers\)$/);
  assert.ok(picks.every((p) => !/exact/.test(p.description)), picks.map((p) => p.description).join(' | '));
  // Without Dropout the same plan is exact.
  const clean = mlpStack({ layers: 2, batch: 256, hidden: 16, ffn: 64 });
  const cleanPlan = fitBudget(clean, train, analyzeModel(clean, train, { source: 'm', entry: null }).peak.bytes - 1, { source: 'm', target: 'onnx' });
  assert.deepEqual(cleanPlan.chosen.caveats, []);
  assert.match(planPicks(cleanPlan)[0].description, / · exact$/);
});
