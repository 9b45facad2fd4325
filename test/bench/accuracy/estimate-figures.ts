// The one place where the accuracy harness reads the engine's estimate. Every estimated figure the
// harness compares with ONNX Runtime comes from `estimateFigures`, so when the engine gains a
// simulation of ORT's allocation planner and BFC arena (extension/engine/ort/), only this function
// changes to read the simulated figures instead, and the table shows the effect.
//
// What it reads (memlens.profile/1):
// - weights: `totals.weightBytes` (initializers and Constant values of every graph, bodies included);
// - requested bytes after each node and the arena with optimisations off: `ortHeld`, ONNX
//   Runtime's allocation plan replayed through its BFC arena (extension/engine/ort/held.ts):
//   `perNode[].requestedInUseBytes` beside ORT's `mem_bytes_requested_in_use`, and
//   `arenaInUsePeakBytes` beside its `mem_in_use_peak`;
// - the optimised session: the graph ONNX Runtime wrote for a level-'all' session
//   (runner/optimised-graph.ts), analysed with the optimised session model (memory-pattern block,
//   prepacked copies reserved in the arena): its `ortHeld.arenaInUsePeakBytes` beside the optimised
//   session's `mem_in_use_peak`.
import type { Profile } from '../../../extension/engine/profile';

export interface EstimatedFigures {
  /** Bytes of weights the session holds outside the arena. */
  weightBytes: number;
  /** Estimated arena in-use peak of the session with graph optimisations disabled. */
  arenaPeakBytes: number;
  /** Estimated arena in-use peak of the default-optimised session. */
  optimisedPeakBytes: number;
  /** Estimated requested bytes in use after each node, by node name (forward pass). */
  requestedAfterNode: Map<string, number>;
  unknownTensors: number;
  /** Where each figure came from, for the JSON results. */
  provenance: { arenaPeak: string; optimisedPeak: string; requested: string };
}

export function estimateFigures(profile: Profile, optimised: Profile): EstimatedFigures {
  const held = profile.ortHeld;
  if (!held) throw new Error(`${profile.source}: the profile has no ONNX Runtime figures (not an inference profile)`);
  const opt = optimised.ortHeld;
  if (!opt) throw new Error(`${optimised.source}: the optimised graph's profile has no ONNX Runtime figures`);
  const requestedAfterNode = new Map<string, number>();
  for (const n of held.perNode) requestedAfterNode.set(n.node, n.requestedInUseBytes);
  return {
    weightBytes: profile.totals.weightBytes,
    arenaPeakBytes: held.arenaInUsePeakBytes,
    optimisedPeakBytes: opt.arenaInUsePeakBytes,
    requestedAfterNode,
    unknownTensors: profile.unknownTensors,
    provenance: {
      arenaPeak: `ortHeld.arenaInUsePeakBytes: allocation plan replayed through the BFC arena (${held.runs} runs, ${held.intraOpThreads} intra-op threads)`,
      optimisedPeak: `optimised graph's ortHeld.arenaInUsePeakBytes: prepacked ${opt.prepackedBytes} B + memory pattern ${opt.memPatternBytes ?? 0} B + outputs and scratch, through the BFC arena`,
      requested: 'ortHeld.perNode[].requestedInUseBytes: the allocation plan\'s requests in use after each node',
    },
  };
}
