// The memory budget from the `memlens.budget` setting: a size ("24GiB"), `auto` (the detected
// GPU's total memory), or empty (no budget).
import { MemlensError } from '../engine/errors';
import { formatBytes, parseBytes } from '../engine/units';

export interface Budget {
  bytes: number;
  /** `24.0 GiB` or `80.0 GiB (GPU 0: NVIDIA A100)`. */
  label: string;
  source: 'setting' | 'gpu';
}

export interface DetectedGpu {
  name: string;
  totalBytes: number;
}

/** null: no budget. Throws a MemlensError naming the setting when the text is not a size. */
export function resolveBudget(setting: string, gpu: DetectedGpu | null): Budget | null {
  const text = setting.trim();
  if (text === '' || text.toLowerCase() === 'none') return null;
  if (text.toLowerCase() === 'auto') {
    return gpu ? { bytes: gpu.totalBytes, label: `${formatBytes(gpu.totalBytes)} (${gpu.name})`, source: 'gpu' } : null;
  }
  const bytes = parseBytes(text, 'memlens.budget');
  if (bytes <= 0) throw new MemlensError(`memlens.budget: the budget must be more than 0 bytes, got '${setting}'`);
  return { bytes, label: formatBytes(bytes), source: 'setting' };
}

/**
 * `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits` prints one
 * `NAME, MiB` line per GPU; the first GPU is the one runs use by default.
 */
export function parseGpuQuery(text: string): DetectedGpu | null {
  for (const line of text.split('\n')) {
    const m = /^(.*),\s*(\d+)\s*$/.exec(line.trim());
    if (m) return { name: m[1].trim(), totalBytes: Number(m[2]) * 1024 * 1024 };
  }
  return null;
}

export const GPU_QUERY_ARGS: readonly string[] = ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'];
