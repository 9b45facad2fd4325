// From a file to its profile, optionally measured: the one pipeline the CLI and the editor share.
import * as fs from 'node:fs/promises';
import { analyzeModel } from '../engine/analyze';
import type { Profile } from '../engine/profile';
import { loadModel, type LoadOptions, type ModelKind } from './load-model';
import { modelCard, type ModelCard } from './model-card';

export interface ProfileRequest extends LoadOptions {
  file: string;
  /** Also run on ONNX Runtime with this execution provider and join the measurement. */
  run?: { ep: string; runs: number };
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
  const profile = analyzeModel(loaded.model, req.settings, { source: req.file, entry: loaded.entry });
  if (req.run) {
    // The runner (onnxruntime-node) loads only when a run is asked for.
    const { measureProfile } = await import('./measure');
    profile.measured = await measureProfile(loaded, profile, {
      ep: req.run.ep, runs: req.run.runs, timeoutMs: req.timeoutMs, settings: req.settings, signal: req.signal,
    });
  }
  const fileBytes = loaded.kind === 'onnx' ? (await fs.stat(req.file)).size : null;
  const card = modelCard(loaded.model, req.settings, fileBytes);
  return { profile, kind: loaded.kind, onnxPath: loaded.onnxPath ?? null, card };
}
