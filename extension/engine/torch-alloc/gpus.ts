// Memory of common GPUs, in bytes, as their drivers report it. NVML's total (nvidia-smi's
// "Memory-Usage" denominator) is known for each; the CUDA runtime's totalGlobalMem (deviceQuery,
// torch.cuda.get_device_properties().total_memory), which is what cudaMalloc can draw from and a
// little smaller, only where a report of it was found. Marketing sizes (80 GB, 24 GB) are neither.
import { MemlensError } from '../errors';
import { MiB } from './sizes';

export interface GpuSpec {
  readonly id: string;
  readonly name: string;
  readonly nvmlBytes: number;
  readonly nvmlSource: string;
  readonly cudaBytes: number | null;
  readonly cudaSource: string | null;
}

const MODAL = 'nvidia-smi totals tabulated in modal-labs/modal-client PR #2797 (2025-01) and thundergolfer.com/blog/nvidia-gpu-memory-capacity';

export const GPUS: readonly GpuSpec[] = [
  { id: 'h100-80gb', name: 'NVIDIA H100 80GB HBM3', nvmlBytes: 81_559 * MiB, nvmlSource: MODAL, cudaBytes: null, cudaSource: null },
  { id: 'a100-80gb', name: 'NVIDIA A100 80GB', nvmlBytes: 81_920 * MiB, nvmlSource: MODAL, cudaBytes: null, cudaSource: null },
  {
    id: 'a100-40gb', name: 'NVIDIA A100-SXM4-40GB', nvmlBytes: 40_960 * MiB, nvmlSource: MODAL,
    cudaBytes: 42_298_834_944, cudaSource: 'deviceQuery, driver 12.2 / runtime 11.4, in bottlerocket-os/bottlerocket PR #3873',
  },
  { id: 'rtx-4090', name: 'NVIDIA GeForce RTX 4090', nvmlBytes: 24_564 * MiB, nvmlSource: 'nvidia-smi, driver 550.163.01, in RLinf/RLinf issue #255', cudaBytes: null, cudaSource: null },
  { id: 'l4', name: 'NVIDIA L4', nvmlBytes: 23_034 * MiB, nvmlSource: MODAL, cudaBytes: null, cudaSource: null },
  { id: 't4', name: 'Tesla T4', nvmlBytes: 15_360 * MiB, nvmlSource: MODAL, cudaBytes: null, cudaSource: null },
];

/** `h100`, `A100-40GB`, `rtx4090` -> the table's entry. */
export function findGpu(name: string): GpuSpec {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  const key = norm(name);
  const exact = GPUS.find((g) => norm(g.id) === key);
  const prefixed = GPUS.filter((g) => norm(g.id).startsWith(key));
  const gpu = exact ?? (prefixed.length === 1 ? prefixed[0] : undefined);
  if (!gpu && prefixed.length > 1) throw new MemlensError(`GPU '${name}' is ambiguous: ${prefixed.map((g) => g.id).join(', ')}`);
  if (!gpu) throw new MemlensError(`GPU '${name}' is not in the table (known: ${GPUS.map((g) => g.id).join(', ')})`);
  return gpu;
}
