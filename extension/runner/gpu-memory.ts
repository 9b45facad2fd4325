// Device memory of a process on NVIDIA GPUs, from nvidia-smi when it is installed. CUDA's
// allocations live outside the process RSS and outside ORT's CPU arena figures.
import { toolOutput } from '../process/run-tool';

const QUERY = ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'];

/** Parses `pid, used_memory [MiB]` lines; sums a pid's entries (one per GPU). */
export function parseComputeApps(text: string, pid: number): number | null {
  let total: number | null = null;
  for (const line of text.split('\n')) {
    const [p, mib] = line.split(',').map((s) => s.trim());
    if (Number(p) !== pid || !/^\d+$/.test(mib ?? '')) continue;
    total = (total ?? 0) + Number(mib) * 1024 * 1024;
  }
  return total;
}

/** Used device memory of `pid` in bytes; null when nvidia-smi is missing or lists no such process. */
export async function queryDeviceMemory(pid: number): Promise<number | null> {
  const out = await toolOutput('nvidia-smi', QUERY, 5000);
  return out === null ? null : parseComputeApps(out, pid);
}
