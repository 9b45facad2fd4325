// The estimate of the runner's default session (graphOptimizationLevel 'all'): ONNX Runtime writes
// the graph it optimised (optimised-graph.ts), and the engine analyses that graph with the
// optimised session's model (engine/ort/held.ts optimisedSession: the memory pattern, prepacked
// copies). Fusions, constant folding and the NCHWc layout are ORT's own, not a model of them.
import type { MlasKernels } from '../engine/ort/mlas-kernels';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { analyzeModel } from '../engine/analyze';
import { decodeModel } from '../engine/onnx/decode';
import type { OrtHeldFigures } from '../engine/ort/held-figures';
import type { AnalysisSettings } from '../engine/settings';
import { optimisedGraph } from './optimised-graph';

export interface OptimisedEstimateOptions {
  timeoutMs: number;
  /** Where the written graphs are kept; a folder under the system's temp folder by default. */
  cacheDir?: string;
  memoryLimitBytes?: number;
  signal?: AbortSignal;
}

export function defaultOptimisedCacheDir(): string {
  return path.join(os.tmpdir(), `memlens-optimised-graphs-${os.userInfo().uid}`);
}

export async function estimateOptimisedSession(
  modelPath: string, settings: AnalysisSettings, session: { intraOpThreads: number; runs: number; kernels?: MlasKernels }, options: OptimisedEstimateOptions,
): Promise<OrtHeldFigures> {
  const graph = await optimisedGraph(modelPath, {
    cacheDir: options.cacheDir ?? defaultOptimisedCacheDir(), timeoutMs: options.timeoutMs,
    memoryLimitBytes: options.memoryLimitBytes, signal: options.signal,
  });
  const decoded = decodeModel(fs.readFileSync(graph.path), modelPath);
  const profile = analyzeModel(decoded, settings, { source: modelPath, entry: null, ortSession: { ...session, optimised: true } });
  if (!profile.ortHeld) throw new Error(`internal: ${modelPath}: the optimised graph's analysis has no ONNX Runtime figures`);
  return profile.ortHeld;
}
