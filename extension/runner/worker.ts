// The run process: loads onnxruntime-node, runs the model instrumented and sends back plain
// figures. It is started by run.ts under the supervisor (process/supervisor.ts) and never shares
// its fate with the caller: a native crash, an out-of-memory or a hang ends this process only.
import * as fs from 'fs';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { isMemlensError, MemlensError } from '../engine/errors';
import { withDefaults } from '../engine/settings';
import { seededRng } from '../engine/seeded-random';
import { bindDims, bindInputValues } from '../engine/shapes/bind-dims';
import { prepareModel } from './materialise';
import { branchesRan } from './branches-ran';
import { makeInputData, ORT_TENSOR_TYPE, planInputs } from './inputs';
import { arenaHeld, median, nodesByRun, parseTrace, peakFromNodes } from './profile-events';
import { currentEnvironment, planProviders } from './providers';
import { readProcMemory } from '../process/proc-memory';
import { sessionOptions } from './session-options';
import type {
  InputSpec, NodeMeasurement, OptimisationLevel, ProviderAttempt, ProviderName, SessionFigures, WorkerMessage,
  WorkerRequest, WorkerStart,
} from './types';

type Feeds = Record<string, ort.Tensor>;

function send(m: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(m, undefined, undefined, () => resolve());
  });
}

const stage = (s: string) => void send({ type: 'stage', stage: s });

/** A provider problem, as opposed to a problem with the model: the next provider may do better. */
class ProviderFailure extends Error {}

async function runWorker(req: WorkerRequest): Promise<WorkerMessage> {
  stage('preparing the model');
  const prepared = prepareModel(req);
  const settings = withDefaults({ ...req.settings, dims: { ...(req.settings.dims ?? {}), ...req.dims } });
  const specs = planInputs(prepared.model, bindDims(prepared.model, settings).dims, req.where, bindInputValues(prepared.model, settings.inputValues));
  const feeds = makeFeeds(specs, req.seed);
  const env = currentEnvironment(ort.listSupportedBackends());
  const { tryOrder, skipped } = planProviders(req.ep, env);
  const providers: ProviderAttempt[] = [...skipped];
  const warnings: string[] = [];
  for (const ep of tryOrder) {
    try {
      const attribution = await runSession(req, prepared.path, ep, 'disabled', feeds);
      const optimised = req.optimised ? await runSession(req, prepared.path, ep, 'all', feeds) : null;
      const optimisedSessionPeaks = optimised ? await freshSessionPeaks(req, prepared.path, ep, optimised, feeds) : [];
      providers.push({ ep, status: 'ran', reason: '' });
      for (const s of [attribution, optimised]) {
        if (s && s.peakSource === 'rss-delta') {
          warnings.push(`${ep} (${s.level === 'disabled' ? 'optimisations disabled' : 'optimised'}): ONNX Runtime reported no arena figures; the peak is process RSS growth`);
        }
      }
      return {
        type: 'result',
        result: {
          ep,
          providers,
          attribution,
          optimised,
          optimisedSessionPeaks,
          inputs: specs,
          weightBytes: prepared.weightBytes,
          materialised: prepared.materialised,
          runs: req.runs,
          branches: branchesRan(prepared.model.graph, attribution.nodes),
          warnings,
        },
      };
    } catch (e) {
      if (!(e instanceof ProviderFailure) || ep === 'cpu' || req.ep !== 'auto') throw explicitFailure(req, ep, e);
      providers.push({ ep, status: 'failed', reason: e.message });
    }
  }
  if (req.ep !== 'auto') {
    const why = providers.map((p) => p.reason).join('; ');
    throw new MemlensError(`${req.where}: --ep ${req.ep} cannot run here (${why}); use --ep auto to fall back to cpu, or --ep cpu`);
  }
  throw new MemlensError(`${req.where}: no execution provider could run the model (${providers.map((p) => `${p.ep}: ${p.reason}`).join('; ')})`);
}

/** A provider the user chose by name that fails while running: say so, never fall back. */
function explicitFailure(req: WorkerRequest, ep: ProviderName, e: unknown): unknown {
  if (!(e instanceof ProviderFailure) || ep === 'cpu') return e;
  return new MemlensError(`${req.where}: --ep ${ep} failed (${e.message}); use --ep auto to fall back to cpu, or --ep cpu`);
}

function makeFeeds(specs: InputSpec[], seed: number): Feeds {
  const rng = seededRng(seed);
  const feeds: Feeds = {};
  for (const s of specs) {
    const type = ORT_TENSOR_TYPE[s.dtype] as keyof ort.Tensor.DataTypeMap;
    feeds[s.name] = new ort.Tensor(type, makeInputData(s, rng) as ort.Tensor.DataTypeMap[typeof type], s.shape);
  }
  return feeds;
}

interface Pass {
  sessionCreateMs: number;
  runWallMs: number[];
  rssDeltaBytes: number;
}

/** Creates a session, runs it `runs` times and releases it; provider trouble becomes a ProviderFailure. */
async function pass(
  req: WorkerRequest, modelPath: string, ep: ProviderName, level: OptimisationLevel, profiled: boolean, runs: number, feeds: Feeds,
): Promise<Pass> {
  const label = `${ep} (${level === 'disabled' ? 'optimisations disabled' : 'optimised'}${profiled ? '' : ', timing'})`;
  stage(`creating the ${label} session`);
  const rssBefore = readProcMemory('self')?.rssBytes ?? 0;
  const t0 = performance.now();
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelPath, sessionOptions(req.workDir, ep, level, profiled));
  } catch (e) {
    if (ep === 'cpu') throw new MemlensError(`${req.where}: ONNX Runtime cannot load the model: ${ortMessage(e)}`);
    throw new ProviderFailure(`failed to start: ${ortMessage(e)}`);
  }
  const sessionCreateMs = performance.now() - t0;
  const runWallMs: number[] = [];
  let rssAfter = rssBefore;
  try {
    for (let i = 0; i < runs; i++) {
      stage(`run ${i + 1} of ${runs} on ${label}`);
      const start = performance.now();
      await session.run(feeds);
      runWallMs.push(performance.now() - start);
    }
    rssAfter = readProcMemory('self')?.rssBytes ?? rssBefore;
  } catch (e) {
    if (ep === 'cpu') throw new MemlensError(`${req.where}: ONNX Runtime failed running the model on cpu: ${ortMessage(e)}`);
    throw new ProviderFailure(`failed mid-run: ${ortMessage(e)}`);
  } finally {
    if (profiled) session.endProfiling();
    await session.release();
  }
  return { sessionCreateMs, runWallMs, rssDeltaBytes: Math.max(0, rssAfter - rssBefore) };
}

/** Median wall time of the runs after the warm-up (the only run when there is one). */
function steadyWallMs(runWallMs: number[]): number {
  return median(runWallMs.length > 1 ? runWallMs.slice(1) : runWallMs);
}

/**
 * One level's figures. Memory and per-node figures come from a profiled session. Profiling
 * costs several microseconds per kernel, so the optimised level's wall time, which users
 * compare with their own runs, comes from a second session of the same options without it.
 */
async function runSession(
  req: WorkerRequest, modelPath: string, ep: ProviderName, level: OptimisationLevel, feeds: Feeds,
): Promise<SessionFigures> {
  const profiledRuns = level === 'all' ? Math.min(req.runs, 2) : req.runs;
  const profiled = await pass(req, modelPath, ep, level, true, profiledRuns, feeds);
  const timing = level === 'all' ? await pass(req, modelPath, ep, level, false, req.runs, feeds) : profiled;
  const trace = readProfile(req.workDir, `profile-${ep}-${level}`);
  const runs = nodesByRun(trace);
  const last = runs[runs.length - 1]?.nodes ?? [];
  const timed = runs.length > 1 ? runs.slice(1) : runs;
  const nodes = withMedianDurations(last, timed.map((r) => r.nodes));
  const peak = peakFromNodes(nodes) ?? { bytes: timing.rssDeltaBytes, source: 'rss-delta' as const };
  return {
    level,
    ep,
    sessionCreateMs: timing.sessionCreateMs,
    runWallMs: timing.runWallMs,
    wallMs: steadyWallMs(timing.runWallMs),
    wallTimeProfiled: timing === profiled,
    profiledWallMs: steadyWallMs(profiled.runWallMs),
    peakBytes: peak.bytes,
    peakSource: peak.source,
    arenaHeldBytes: arenaHeld(nodes),
    rssDeltaBytes: timing.rssDeltaBytes,
    nodes,
  };
}

/**
 * The arena peak of `req.optimisedSessions` fresh optimised sessions, `first` (already measured)
 * among them: each is created anew, because the graph ORT optimises can differ between sessions.
 */
async function freshSessionPeaks(
  req: WorkerRequest, modelPath: string, ep: ProviderName, first: SessionFigures, feeds: Feeds,
): Promise<number[]> {
  const peaks = [first.peakBytes];
  if (first.peakSource !== 'arena-peak') return peaks;
  for (let i = 1; i < req.optimisedSessions; i++) {
    await pass(req, modelPath, ep, 'all', true, Math.min(req.runs, 2), feeds);
    const runs = nodesByRun(readProfile(req.workDir, `profile-${ep}-all`));
    const peak = peakFromNodes(runs[runs.length - 1]?.nodes ?? []);
    if (!peak || peak.source !== 'arena-peak') break;
    peaks.push(peak.bytes);
  }
  return peaks;
}

/** endProfiling() returns nothing: the file is found by its prefix, read, then removed. */
function readProfile(dir: string, prefix: string) {
  const file = fs.readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.json'));
  if (!file) throw new Error(`internal: ONNX Runtime wrote no profile starting with ${prefix}`);
  const full = path.join(dir, file);
  const events = parseTrace(fs.readFileSync(full, 'utf8'));
  fs.rmSync(full);
  return events;
}

function withMedianDurations(last: NodeMeasurement[], runs: NodeMeasurement[][]): NodeMeasurement[] {
  const durations = new Map<string, number[]>();
  for (const run of runs) {
    for (const m of run) {
      const list = durations.get(m.node);
      if (list) list.push(m.durationUs);
      else durations.set(m.node, [m.durationUs]);
    }
  }
  return last.map((n) => ({ ...n, durationUs: median(durations.get(n.node) ?? [n.durationUs]) }));
}

/** ORT errors carry a source path and an assertion; users need the sentence at the end. */
export function ortMessage(e: unknown): string {
  const text = (e instanceof Error ? e.message : String(e)).split('\n')[0].trim();
  const assertion = / was false\. (.*)$/.exec(text);
  const cleaned = (assertion ? assertion[1] : text).replace(/^\[ONNXRuntimeError\] : \d+ : \w+ : /, '').replace(/^\S+\.cc:\d+ \S+ /, '');
  return cleaned.length > 240 ? `${cleaned.slice(0, 237)}...` : cleaned;
}

// Orphaned (the caller went away): nothing is waiting for the figures.
process.on('disconnect', () => process.exit(1));

/** The message only: a stack trace is for developers, and the caller shows one line. */
function failure(e: unknown): WorkerMessage {
  const text = e instanceof Error ? e.message : String(e);
  return { type: 'error', message: text.split('\n')[0].trim(), userError: isMemlensError(e) };
}

process.once('message', (m: WorkerStart) => {
  void runWorker(m.request)
    .catch(failure)
    .then(send)
    .then(() => process.exit(0));
});
