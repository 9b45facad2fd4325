// From a file to its profile, optionally measured: the one pipeline the CLI and the editor share.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { analyze, firstFigures, toProfile, type FirstFigures } from '../engine/analyze';
import { MemlensError } from '../engine/errors';
import type { Profile } from '../engine/profile';
import { loadModel, type LoadOptions } from './load-model';
import { localOrtSession, type LocalOrtSession } from './local-ort-session';
import { reusedAnalysis } from './profile-reuse';
import type { ModelKind } from './model-kind';

export type MeasureRuntime = 'onnxruntime' | 'torch';
import { modelCard, type ModelCard } from './model-card';
import { makeRunDir, removeRunDir } from '../process/run-dir';

export interface ProfileRequest extends LoadOptions {
  file: string;
  /** Also run the model and join the measurement: on ONNX Runtime with this execution provider,
   * or in PyTorch (`torch`, the default for Python models: the reference for training). */
  run?: { ep: string; runs: number; runtime?: MeasureRuntime };
  /**
   * Also estimate the runner's default-optimised session from the graph ONNX Runtime writes for it
   * (runner/optimised-estimate.ts); always done for an ONNX Runtime run, which compares with it.
   */
  optimised?: boolean;
  /** Called with the first figures as soon as the graph is analysed, before the plan, the timeline, ORT's held memory and any run. */
  onFirst?: (first: FirstFigures) => void;
}

export interface ProfileOutcome {
  profile: Profile;
  kind: ModelKind;
  /** An ONNX file holding the model (the file itself for .onnx), for runs. */
  onnxPath: string | null;
  /** What the model file is (inputs, outputs, opsets...), read from the loaded graph. */
  card: ModelCard;
}

export async function profileFile(req: ProfileRequest): Promise<ProfileOutcome> {
  const loaded = await loadModel(req.file, req);
  const settings = { ...req.settings, ...loaded.settings };
  const ortSession = localOrtSession(req.run?.runs ?? 1);
  const options = { source: req.file, entry: loaded.entry, ortSession };
  const analyse = (): Profile => {
    const analysis = analyze(loaded.model, settings, req.file);
    const first = firstFigures(analysis, options);
    req.onFirst?.({ ...first, warnings: [...first.warnings, ...(loaded.warnings ?? [])] });
    return toProfile(analysis, options, first);
  };
  // An export equal to the last one (an edit outside the model) reuses its analysis (no first step then: it is at hand).
  const profile = loaded.contentHash ? reusedAnalysis(loaded.contentHash, { settings, options }, analyse) : analyse();
  profile.warnings.push(...(loaded.warnings ?? []));
  const runtime = req.run?.runtime ?? (loaded.kind === 'python' ? 'torch' : 'onnxruntime');
  if (profile.settings.mode === 'infer' && (req.optimised || (req.run && runtime === 'onnxruntime'))) {
    await addOptimisedEstimate(profile, loaded, settings, ortSession, req);
  }
  if (req.run && runtime === 'torch') {
    if (loaded.kind !== 'python') throw new MemlensError(`${req.file}: a PyTorch run needs a .py model; use --runtime onnxruntime`);
    const { measureTorchProfile } = await import('./measure-torch');
    profile.measured = await measureTorchProfile(req.file, loaded, profile, req, { ep: req.run.ep, runs: req.run.runs });
  } else if (req.run) {
    // The runner (onnxruntime-node) loads only when a run is asked for.
    const { measureProfile } = await import('./measure');
    profile.measured = await measureProfile(loaded, profile, {
      ep: req.run.ep, runs: req.run.runs, timeoutMs: req.timeoutMs, settings, signal: req.signal, ortSession,
    });
  }
  const fileBytes = loaded.kind === 'onnx' ? (await fs.stat(req.file)).size : null;
  const card = modelCard(loaded.model, settings, fileBytes);
  return { profile, kind: loaded.kind, onnxPath: loaded.onnxPath ?? null, card };
}

/**
 * The optimised session's figures, when ONNX Runtime can write its graph; otherwise a warning
 * says why (the unoptimised figures stand). The runner's module loads only when asked for.
 */
async function addOptimisedEstimate(
  profile: Profile, loaded: Awaited<ReturnType<typeof loadModel>>, settings: ProfileRequest['settings'],
  ortSession: LocalOrtSession, req: ProfileRequest,
): Promise<void> {
  const { defaultMemoryLimit } = await import('../process/supervisor');
  // A model the run would refuse (its estimated peak over the memory limit) is not loaded for this either.
  if (profile.peak.bytes > defaultMemoryLimit()) {
    profile.warnings.push('no estimate of the optimised session: the estimated peak is over the memory limit of a model run');
    return;
  }
  const { estimateOptimisedSession } = await import('../runner/optimised-estimate');
  const { encodeModel } = await import('../engine/onnx/encode');
  let file = loaded.onnxPath ?? null;
  let tmp: string | null = null;
  try {
    if (!file) {
      tmp = makeRunDir('memlens-optimise-src-');
      file = path.join(tmp, 'model.onnx');
      await fs.writeFile(file, encodeModel(loaded.model));
    }
    // The runner profiles at most two runs of the optimised session (worker.ts); without a run, two:
    // the first allocates buffer by buffer, the second takes the memory pattern's block.
    const runs = req.run ? Math.min(req.run.runs, 2) : 2;
    profile.ortOptimised = await estimateOptimisedSession(file, settings, { ...ortSession, runs }, { timeoutMs: req.timeoutMs, signal: req.signal });
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    profile.warnings.push(`no estimate of the optimised session: ${why}`);
  } finally {
    if (tmp) removeRunDir(tmp);
  }
}
