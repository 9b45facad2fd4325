// Suggestions, plans and rewritten ONNX copies for a model file: loads the model with its source
// files pinned by hash, then runs the suggestion engine or the planner on it. The editor's code
// actions, Fit to Budget and quantized copies call these (through the engine bundle).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { analyzeModel } from '../engine/analyze';
import { MemlensError } from '../engine/errors';
import { applyRewrites } from '../engine/onnx-rewrite/apply';
import type { GraphRewrite } from '../engine/onnx-rewrite/rewrite-types';
import { encodeModel } from '../engine/onnx/encode';
import { fitBudget, type Plan, type PlanTarget } from '../engine/suggest/planner';
import { costText, suggestRewritesStepwise } from '../engine/suggest/suggest';
import type { Suggestion } from '../engine/suggest/types';
import { loadModel, type LoadedModel } from './load-model';
import type { ProfileRequest } from './profile-file';
import { textHash, writeNewFile } from './write-file';

export interface SuggestRequest extends ProfileRequest {
  /** Source files whose text the analysis describes (besides `file`): their hashes are kept. */
  files: string[];
}

export interface SuggestionSet {
  /** Best first, each with the engine's cost text. */
  items: { suggestion: Suggestion; costLabel: string }[];
  /** Peak of the model as loaded for the suggestions. */
  peakBytes: number;
  /** sha256 of each source file's text when the model was loaded (absolute paths). */
  hashes: Record<string, string>;
}

export interface PlanOutcome {
  plan: Plan;
  hashes: Record<string, string>;
}

async function snapshot(files: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of new Set(files.map((x) => path.resolve(x)))) {
    const bytes = await fs.readFile(f).catch(() => null);
    if (bytes) out[f] = textHash(bytes);
  }
  return out;
}

/**
 * Loads the model with the hashes of its source files taken before and checked after, so what
 * comes back describes one known text of each file (a save in between gives a clear error).
 */
async function loadPinned(req: SuggestRequest): Promise<{ loaded: LoadedModel; hashes: Record<string, string> }> {
  const files = [req.file, ...req.files];
  const before = await snapshot(files);
  const loaded = await loadModel(req.file, {
    entry: req.entry, settings: req.settings, trusted: req.trusted, timeoutMs: req.timeoutMs, signal: req.signal, pythonPath: req.pythonPath,
    keepWorkers: req.keepWorkers,
  });
  const after = await snapshot(files);
  for (const [f, h] of Object.entries(before)) {
    if (after[f] !== h) throw new MemlensError(`${path.basename(f)} changed while it was analysed; profile it again`);
  }
  return { loaded, hashes: before };
}

/** Ranked suggestions for the model in `req.file`, each re-analysed on the rewritten graph. */
export async function suggestForFile(req: SuggestRequest): Promise<SuggestionSet> {
  const { loaded, hashes } = await loadPinned(req);
  const profile = analyzeModel(loaded.model, req.settings, { source: req.file, entry: loaded.entry });
  const suggestions = await suggestRewritesStepwise(loaded.model, req.settings, { source: req.file, profile }, () => yieldUnlessAborted(req.signal));
  return { items: suggestions.map((s) => ({ suggestion: s, costLabel: costText(s.cost) })), peakBytes: profile.peak.bytes, hashes };
}

/** Lets the event loop take other messages (a profile, a cancel), then stops if cancelled. */
async function yieldUnlessAborted(signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  signal?.throwIfAborted();
}

/** The cheapest plan under `budgetBytes` (the planner's frontier included). */
export async function fitForFile(req: SuggestRequest, budgetBytes: number, target: PlanTarget): Promise<PlanOutcome> {
  const { loaded, hashes } = await loadPinned(req);
  return { plan: fitBudget(loaded.model, req.settings, budgetBytes, { source: req.file, target }), hashes };
}

/**
 * Writes `input` with graph rewrites applied to a NEW file `output` (the input is never
 * overwritten), and returns the rewritten model's peak under `req.settings`.
 */
export async function writeRewrittenOnnx(req: ProfileRequest, output: string, rewrites: GraphRewrite[]): Promise<{ peakBytes: number }> {
  if (path.resolve(output) === path.resolve(req.file)) throw new MemlensError(`${path.basename(output)}: a rewritten copy never replaces the model it comes from; choose another name`);
  const loaded = await loadModel(req.file, { settings: req.settings, trusted: req.trusted, timeoutMs: req.timeoutMs, signal: req.signal });
  if (loaded.kind !== 'onnx') throw new MemlensError(`${path.basename(req.file)}: only .onnx models are written as rewritten copies`);
  const rewritten = applyRewrites(loaded.model, rewrites, { checkOpset: true });
  const peak = analyzeModel(rewritten, req.settings, { source: output, entry: null }).peak.bytes;
  // The editor's save dialog has asked before replacing `output`; the input is refused by inode too.
  await writeNewFile(output, encodeModel(rewritten), { inputs: [req.file], replace: true });
  return { peakBytes: peak };
}
