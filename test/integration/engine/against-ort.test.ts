// The estimate against ONNX Runtime on real models: the same execution order, and the inference
// activation peak within 5% of the measured one (optimisations disabled) or explained per node by
// the simulated plan and arena; without that simulation, every gap is reported as not explained.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { analyzeModel } from '../../../extension/engine/analyze';
import { executionOrder } from '../../../extension/engine/graph-order';
import { decodeModel } from '../../../extension/engine/onnx/decode';
import { withDefaults } from '../../../extension/engine/settings';
import { compareRun } from '../../../extension/runner/compare';
import { runModel } from '../../../extension/runner/run';
import { modelPath, type FixtureModelName } from '../../fixtures/real-models';
import { localOrtSession } from '../../../extension/analysis/local-ort-session';

const MODELS: { name: FixtureModelName; dims: Record<string, number> }[] = [
  { name: 'resnet18', dims: {} },
  { name: 'mobilenet_v2', dims: {} },
  { name: 'vit_ti_16', dims: {} },
  { name: 'transformer_encoder', dims: {} },
  { name: 'ppocr_v4_det', dims: { 'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 320, 'p2o.DynamicDimension.2': 320 } },
];

for (const { name, dims } of MODELS) {
  test(`${name}: execution order and activation peak agree with ONNX Runtime`, async () => {
    const file = modelPath(name);
    const model = decodeModel(fs.readFileSync(file), file);
    const settings = withDefaults({ batch: 1, dims });
    const run = await runModel({ model: { path: file }, ep: 'cpu', runs: 1, optimised: false, settings, dims }, { timeoutMs: 120_000 });
    const measuredOrder = run.attribution.nodes.map((n) => n.node);
    const ours = executionOrder(model.graph).map((i) => model.graph.nodes[i].name).filter((n) => measuredOrder.includes(n));
    assert.deepEqual(ours, measuredOrder);

    // Predicted for the session the runner measured, as `memlens profile --run` does.
    const profile = analyzeModel(model, settings, { source: file, entry: null, ortSession: localOrtSession(1) });
    const cmp = compareRun(profile, run);
    if (profile.ortHeld) {
      // With ORT's plan and arena simulated, every difference must be explained by them.
      assert.ok(cmp.peak.withinTarget || cmp.peak.explained, cmp.summary.join('\n'));
      // Node by node, every node agrees or is explained (the bar is 95% within 1 KiB).
      // (vit_ti_16's first GELU Erf once was off: ORT's Erf kernel declares no MayInplace, see
      // engine/ort/inplace-kernels.ts.)
      const off = cmp.nodes.filter((n) => n.verdict === 'not-explained' || n.verdict === 'not-estimated');
      assert.ok(off.length === 0, `${off.length} of ${cmp.nodes.length} nodes off: ${off.map((n) => n.node).join(', ')}\n${cmp.summary.join('\n')}`);
    } else {
      // Without the simulation nothing computes the planner's and arena's bytes: every gap over
      // the target is reported as not explained, with all of its bytes left.
      assert.equal(cmp.peak.explained, cmp.peak.withinTarget, cmp.summary.join('\n'));
      assert.equal(cmp.peak.unexplainedBytes, cmp.peak.differenceBytes);
      for (const n of cmp.nodes.filter((x) => x.verdict === 'not-explained')) assert.equal(n.unexplainedBytes, n.differenceBytes, n.node);
      assert.ok(cmp.nodes.every((n) => n.verdict !== 'explained'));
    }
  });
}
