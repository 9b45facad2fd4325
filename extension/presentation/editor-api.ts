// The editor's heavy half, as plain data: model loading (ONNX decoding, TypeScript tracing, Python
// export), the engine, discovery, suggestions and source edits, and the runner. It imports no
// `vscode`; vscode/engine-loader.ts loads it on first use, so start-up reads none of it (in the
// package it is its own bundle, dist/engine.js, and this file is that bundle's whole surface).
import type { Profile } from '../engine/profile';
import { chromeTrace } from '../analysis/chrome-trace';
import { profileFile, type ProfileOutcome, type ProfileRequest } from '../analysis/profile-file';
import { textHash } from '../analysis/write-file';
import { fitForFile, suggestForFile, writeRewrittenOnnx } from '../analysis/suggest-file';
import { sourceRewriter } from '../../language/source-rewrites';
import { DEFAULT_RUNS } from '../runner/run';
import type { ProviderChoice } from '../runner/types';
import { modelEntries } from './model-entries';
import { stopTraceWorker } from '../../language/typescript/trace';
import { stopPythonWorkers } from '../../language/python/python-worker';

export { profileFile, modelEntries, suggestForFile, fitForFile, writeRewrittenOnnx, textHash, sourceRewriter, stopTraceWorker };

/** Ends the kept workers (the TypeScript tracer, the Python workers); the next profile starts them again. */
export async function stopWorkers(): Promise<void> {
  await Promise.all([stopTraceWorker(), stopPythonWorkers()]);
}

export interface MeasureRequest extends ProfileRequest {
  ep: ProviderChoice;
}

/** Profiles the model, runs it on ONNX Runtime (in a child process) and joins the measurement. */
export function measureFile(req: MeasureRequest): Promise<ProfileOutcome> {
  return profileFile({ ...req, run: { ep: req.ep, runs: DEFAULT_RUNS } });
}

export function chromeTraceJson(profile: Profile): string {
  return JSON.stringify(chromeTrace(profile));
}
