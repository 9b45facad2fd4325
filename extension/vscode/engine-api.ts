// The heavy side of the extension: model loading (ONNX decoding, TypeScript tracing, Python
// export), the engine, discovery and the runner. It imports no `vscode` and is loaded on first
// use through engine-loader.ts, so start-up reads none of it (in the package it is its own file).
import * as path from 'node:path';
import type { Profile } from '../engine/profile';
import type { ModelKind } from '../analysis/load-model';
import { profileFile, type ProfileOutcome, type ProfileRequest } from '../analysis/profile-file';
import { chromeTrace } from '../cli/chrome-trace';
import { discoverPython } from '../../language/python/discovery';
import { chooseEntry } from '../../language/python/entry';
import { isBuilderName } from '../../language/python/discovery';
import { discoverEntries } from '../../language/typescript/discovery';
import type { ModelEntry } from '../presentation/model-entries';
import { DEFAULT_RUNS } from '../runner/run';
import type { ProviderChoice } from '../runner/types';

export type { ProfileOutcome, ProfileRequest };
export { profileFile };

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

/** Entries of a model file from static discovery (no user code runs). */
export async function modelEntries(kind: ModelKind, file: string, text: string): Promise<ModelEntry[]> {
  const fileLabel = path.basename(file);
  // The tracer profiles the first entry the file declares when none is named.
  if (kind === 'typescript') return discoverEntries(file, text).entries.map((e, i) => ({ name: e.name, line: e.startLine, isDefault: i === 0 }));
  if (kind !== 'python') return [];
  const d = await discoverPython(text);
  let chosen: string | null = null;
  let mainEntry: ModelEntry | null = null;
  try {
    const choice = chooseEntry(d, fileLabel);
    // A script's first model call is found by running it; discovery's choice marks the lens.
    const c = choice.source === 'script' ? choice.fallback : choice;
    if (c?.request.kind === 'name') chosen = c.request.name;
    // The `__main__` block builds the model with an expression: its lens goes on that line.
    else if (c && d.main?.model) mainEntry = { name: c.label, line: d.main.model.line, isDefault: true };
  } catch {
    // no buildable entry: the lenses still mark the modules
  }
  const entries: ModelEntry[] = [
    ...d.classes.filter((c) => c.forward !== null).map((c) => ({ name: c.name, line: c.line, isDefault: c.name === chosen })),
    ...d.functions.filter((f) => f.requiredArgs.length === 0 && (isBuilderName(f.name) || f.name === chosen))
      .map((f) => ({ name: f.name, line: f.line, isDefault: f.name === chosen })),
    ...(mainEntry ? [mainEntry] : []),
  ];
  return entries.sort((a, b) => a.line - b.line);
}

// Suggestions, plans and rewritten copies (code actions, Fit to Budget) share this bundle.
export * from './suggest-api';
