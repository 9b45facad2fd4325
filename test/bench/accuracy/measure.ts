// ONNX Runtime's own figures for a held-out model, through the runner MemLens uses (runModel: a
// child process, the optimisations-disabled attribution session and the default-optimised one).
// Measurements do not depend on the engine, so they are kept in .cache/accuracy/measured/ keyed by
// the model, its settings and the onnxruntime-node version: rerunning after an engine change only
// recomputes the estimate. The optimised session is measured in OPTIMISED_SESSIONS fresh sessions:
// ORT's NCHWc transformer adds its ReorderOutput nodes in the iteration order of a hash map keyed
// by pointers (nchwc_transformer.cc, Finalize), so the order a session runs and its peak can
// differ from one session to the next.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runModel } from '../../../extension/runner/run';
import type { RunResult, SessionFigures } from '../../../extension/runner/types';
import { repoRoot } from '../../fixtures/repo-root';
import type { HeldoutModel } from './heldout-set';

const MEASURE_VERSION = 2;
/** Runs per session: a warm-up and a measured run. */
export const RUNS = 2;
/** Fresh optimised sessions measured per model. */
export const OPTIMISED_SESSIONS = 5;
const TIMEOUT_MS = 9 * 60 * 1000;
const MEMORY_LIMIT_BYTES = 16 * 2 ** 30;
export const measuredDir = path.join(repoRoot, '.cache', 'accuracy', 'measured');

export interface MeasuredNode {
  node: string;
  op: string;
  executions: number;
  requestedInUseBytes: number | null;
  inUseBytes: number | null;
}

export interface MeasuredSession {
  peakBytes: number;
  peakSource: SessionFigures['peakSource'];
  arenaHeldBytes: number | null;
  nodes: MeasuredNode[];
}

export interface Measurement {
  key: string;
  ortVersion: string;
  ep: string;
  attribution: MeasuredSession;
  optimised: MeasuredSession | null;
  /** The arena peak of each fresh optimised session, `optimised`'s first; empty without one. */
  optimisedPeaks: number[];
  warnings: string[];
}

function ortVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(repoRoot, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')) as { version: string }).version;
}

function cacheKey(model: HeldoutModel, version: string): string {
  const raw = JSON.stringify([MEASURE_VERSION, RUNS, OPTIMISED_SESSIONS, model.facts.factsKey, model.facts.onnx.fileBytes, model.settings, version]);
  return crypto.createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

function session(s: SessionFigures): MeasuredSession {
  return {
    peakBytes: s.peakBytes,
    peakSource: s.peakSource,
    arenaHeldBytes: s.arenaHeldBytes,
    nodes: s.nodes.map((n) => ({
      node: n.node, op: n.op, executions: n.executions, requestedInUseBytes: n.requestedInUseBytes, inUseBytes: n.inUseBytes,
    })),
  };
}

function fromRun(key: string, version: string, r: RunResult): Measurement {
  return {
    key, ortVersion: version, ep: r.ep,
    attribution: session(r.attribution),
    optimised: r.optimised ? session(r.optimised) : null,
    optimisedPeaks: r.optimisedSessionPeaks,
    warnings: r.warnings,
  };
}

/** The cached measurement when its key matches, else a fresh run on the CPU provider. */
export async function measure(model: HeldoutModel, remeasure: boolean): Promise<{ m: Measurement; cached: boolean }> {
  const version = ortVersion();
  const key = cacheKey(model, version);
  // The version is in the name, so checkouts measuring different things do not overwrite each other.
  const file = path.join(measuredDir, `${model.name}.v${MEASURE_VERSION}.json`);
  if (!remeasure && fs.existsSync(file)) {
    const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as Measurement;
    if (cached.key === key) return { m: cached, cached: true };
  }
  const result = await runModel(
    { model: { path: model.file }, ep: 'cpu', runs: RUNS, optimisedSessions: OPTIMISED_SESSIONS, settings: model.settings, dims: model.settings.dims },
    { timeoutMs: TIMEOUT_MS, memoryLimitBytes: MEMORY_LIMIT_BYTES },
  );
  const m = fromRun(key, version, result);
  fs.mkdirSync(measuredDir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(m));
  return { m, cached: false };
}
