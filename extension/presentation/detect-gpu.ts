// The GPU's memory for `memlens.budget: auto`, from nvidia-smi when it is installed.
import { execFile } from 'node:child_process';
import { GPU_QUERY_ARGS, parseGpuQuery, type DetectedGpu } from './budget';

/** null when nvidia-smi is missing, fails, or lists no GPU. */
export function detectGpu(timeoutMs = 5000): Promise<DetectedGpu | null> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', [...GPU_QUERY_ARGS], { timeout: timeoutMs }, (err, stdout) => {
      resolve(err ? null : parseGpuQuery(stdout));
    });
  });
}
