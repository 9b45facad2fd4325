// The one place where the accuracy harness reads the engine's estimate. Every estimated figure the
// harness compares with ONNX Runtime comes from `estimateFigures`, so when the engine gains a
// simulation of ORT's allocation planner and BFC arena (extension/engine/ort/), only this function
// changes to read the simulated figures instead, and the table shows the effect.
//
// What it reads today (memlens.profile/1):
// - weights: `totals.weightBytes` (initializers and Constant values of every graph, bodies included);
// - requested bytes after each node: the timeline's live bytes minus weights minus caller-owned
//   graph inputs, as extension/runner/compare.ts compares them with ORT's
//   `mem_bytes_requested_in_use`;
// - the activation arena with optimisations off: the largest of those requested figures. Today the
//   engine has no model of how the BFC arena rounds, splits and grows, so the ideal (perfect reuse)
//   figure stands in for the arena's in-use peak;
// - the optimised session: the engine does not model it yet (no fusion, no prepacked copies), so
//   the same figure stands in.
import type { Profile, TimelinePoint } from '../../../extension/engine/profile';

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

function requestedShare(p: TimelinePoint): number {
  return Math.max(0, p.liveBytes - p.byCategory.weights - p.callerBytes);
}

export function estimateFigures(profile: Profile): EstimatedFigures {
  const requestedAfterNode = new Map<string, number>();
  let peak = 0;
  for (const p of profile.timeline) {
    if (p.phase !== 'forward') continue;
    const bytes = requestedShare(p);
    requestedAfterNode.set(p.node, bytes);
    peak = Math.max(peak, bytes);
  }
  return {
    weightBytes: profile.totals.weightBytes,
    arenaPeakBytes: peak,
    optimisedPeakBytes: peak,
    requestedAfterNode,
    unknownTensors: profile.unknownTensors,
    provenance: {
      arenaPeak: 'max over nodes of live bytes - weights - caller-owned inputs (ideal reuse, no arena model)',
      optimisedPeak: 'same as arenaPeak (no model of the optimised session)',
      requested: 'timeline live bytes - weights - caller-owned inputs, per node',
    },
  };
}
