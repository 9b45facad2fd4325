// Measured figures beside the estimate: the model runs on ONNX Runtime in a child process
// (extension/runner) and the per-node measurement joins the profile by node name.
import * as path from 'node:path';
import { MemlensError } from '../engine/errors';
import { encodeModel } from '../engine/onnx/encode';
import { formatBytes } from '../engine/units';
import { defaultMemoryLimit } from '../process/supervisor';
import type { MeasuredFigures, Profile } from '../engine/profile';
import type { AnalysisSettings } from '../engine/settings';
import { analyzeModel, type AnalyzeOptions } from '../engine/analyze';
import { compareRun, ortComparisonRefusal } from '../runner/compare';
import { divergedBranches, ranPins } from '../runner/compare-branches';
import { toMeasured } from '../runner/measured';
import { runModel } from '../runner/run';
import type { ProviderChoice, RunResult } from '../runner/types';
import type { LoadedModel } from './load-model';

export interface MeasureOptions {
  ep: string;
  runs: number;
  timeoutMs: number;
  settings: AnalysisSettings;
  memoryLimitBytes?: number;
  signal?: AbortSignal;
  /** The session the estimate modelled, for the estimate re-analysed with the branches the run took. */
  ortSession?: AnalyzeOptions['ortSession'];
}

export async function measureProfile(loaded: LoadedModel, profile: Profile, options: MeasureOptions): Promise<MeasuredFigures> {
  const refusal = ortComparisonRefusal(profile);
  if (refusal) throw new MemlensError(refusal);
  const limit = options.memoryLimitBytes ?? defaultMemoryLimit();
  if (profile.peak.bytes > limit) {
    throw new MemlensError(
      `model run refused: the estimated peak ${formatBytes(profile.peak.bytes)} (${profile.peak.phase}, at ${profile.peak.op} ${profile.peak.node}) ` +
        `is over the run's memory limit of ${formatBytes(limit)}; lower --batch or --seq, or run on a machine with more memory`,
    );
  }
  // Front ends that trace in memory hand the runner the same graph the estimate analysed.
  const model = loaded.onnxPath ? { path: loaded.onnxPath } : { bytes: encodeModel(loaded.model), name: path.basename(profile.source) };
  const result = await runModel(
    { model, ep: options.ep as ProviderChoice, runs: options.runs, settings: options.settings, dims: options.settings.dims },
    { timeoutMs: options.timeoutMs, memoryLimitBytes: limit, signal: options.signal },
  );
  const cmp = compareRun(profile, result, ranBranchEstimate(loaded, profile, result, options));
  return toMeasured(result, profile, {
    estimatedPeakBytes: cmp.peak.estimatedBytes,
    measuredPeakBytes: cmp.peak.measuredBytes,
    differencePct: cmp.peak.differencePct,
    withinTarget: cmp.peak.withinTarget,
    explained: cmp.peak.explained,
    summary: cmp.summary,
    ...(cmp.pinned ? { pinned: cmp.pinned } : {}),
  });
}

/** The same model and settings with each If whose run took the other branch pinned to it; null when none did. */
function ranBranchEstimate(loaded: LoadedModel, profile: Profile, result: RunResult, options: MeasureOptions): Profile | null {
  const diverged = divergedBranches(profile, result.branches);
  if (diverged.length === 0) return null;
  const settings = { ...options.settings, branches: { ...options.settings.branches, ...ranPins(diverged) } };
  return analyzeModel(loaded.model, settings, { source: profile.source, entry: profile.entry, ...(options.ortSession ? { ortSession: options.ortSession } : {}) });
}
