// The check the control-flow tests share: the simulated ONNX Runtime figures of a model against a
// real session as the runner measures it (optimisations off, two runs, one intra-op thread per
// core): the arena's in-use peak, its held bytes, and the requested bytes in use after every node
// ORT ran. ORT reports a body node once, with its last execution's figures; so does the simulation.
import assert from 'node:assert/strict';
import { analyzeModel } from '../../../extension/engine/analyze';
import { decodeModel } from '../../../extension/engine/onnx/decode';
import { withDefaults } from '../../../extension/engine/settings';
import { runModel } from '../../../extension/runner/run';
import { localOrtSession } from '../../../extension/analysis/local-ort-session';

const RUNS = 2;

export async function expectHeldAsOrt(bytes: Uint8Array, name: string, nodesRan: number): Promise<void> {
  const session = localOrtSession(RUNS);
  const profile = analyzeModel(decodeModel(bytes, name), withDefaults({}), { source: name, entry: null, ortSession: session });
  const r = await runModel({ model: { bytes, name }, ep: 'cpu', runs: RUNS, optimised: false }, { timeoutMs: 120_000 });
  const held = profile.ortHeld!;
  assert.equal(held.arenaInUsePeakBytes, r.attribution.peakBytes);
  assert.equal(held.arenaHeldBytes, r.attribution.arenaHeldBytes);
  const estimated = new Map(held.perNode.map((n) => [n.node, n.requestedInUseBytes]));
  const ran = r.attribution.nodes.filter((m) => m.requestedInUseBytes !== null);
  assert.equal(ran.length, nodesRan);
  for (const m of ran) assert.equal(estimated.get(m.node), m.requestedInUseBytes, `node ${m.node}`);
}
