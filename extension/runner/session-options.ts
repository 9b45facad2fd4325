// The session options of each pass the run process makes (worker.ts). One place, so that the
// benchmark's instrumented-vs-plain comparison times the very options the runner uses.
import * as path from 'path';
import type * as ort from 'onnxruntime-node';
import type { OptimisationLevel, ProviderName } from './types';

export function sessionOptions(
  workDir: string, ep: ProviderName, level: OptimisationLevel, profiled: boolean,
): ort.InferenceSession.SessionOptions {
  const base: ort.InferenceSession.SessionOptions = { executionProviders: [ep], graphOptimizationLevel: level, logSeverityLevel: 3 };
  if (profiled) {
    base.enableProfiling = true;
    base.profileFilePrefix = path.join(workDir, `profile-${ep}-${level}`);
  }
  if (level === 'all') return base;
  // Attribution: every allocation visible per node (no memory pattern block), weights counted
  // as parameters rather than hidden in prepacked copies.
  return { ...base, enableCpuMemArena: true, enableMemPattern: false, extra: { session: { disable_prepacking: '1' } } };
}
