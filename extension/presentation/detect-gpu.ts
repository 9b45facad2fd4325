// The GPU's memory for `memlens.budget: auto`, from nvidia-smi when it is installed.
import { toolOutput } from '../process/run-tool';
import { GPU_QUERY_ARGS, parseGpuQuery, type DetectedGpu } from './budget';

/** null when nvidia-smi is missing, fails, or lists no GPU. */
export async function detectGpu(timeoutMs = 5000): Promise<DetectedGpu | null> {
  const out = await toolOutput('nvidia-smi', [...GPU_QUERY_ARGS], timeoutMs);
  return out === null ? null : parseGpuQuery(out);
}
