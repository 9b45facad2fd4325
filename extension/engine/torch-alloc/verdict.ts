// Fits or does not fit: the allocation sequence replayed by the simulated caching allocator on a
// device of a named GPU's size, out-of-memory errors included (the allocator frees its cache and
// retries before it gives up, so a reserved peak above the device can still fit).
import type { AllocatorConfig } from './config';
import type { GpuSpec } from './gpus';
import { simulateAllocator, type AllocatorEvent, type OutOfMemory } from './simulate';

export interface FitVerdict {
  readonly gpu: GpuSpec;
  /** What cudaMalloc could draw from: the GPU's memory less `nonPyTorchBytes`. */
  readonly limitBytes: number;
  /** Which driver figure the limit starts from. */
  readonly basis: 'cuda-total-global-mem' | 'nvml-total';
  readonly fits: boolean;
  readonly peakReservedBytes: number;
  readonly peakAllocatedBytes: number;
  /** limit - reserved peak when it fits. */
  readonly headroomBytes: number | null;
  readonly oom: OutOfMemory | null;
  readonly notes: readonly string[];
}

export interface VerdictOptions {
  readonly config?: AllocatorConfig;
  /** Device memory outside PyTorch's allocator: the CUDA context, cuBLAS/cuDNN workspaces, other processes. */
  readonly nonPyTorchBytes?: number;
}

export function fitVerdict(events: readonly AllocatorEvent[], gpu: GpuSpec, opts: VerdictOptions = {}): FitVerdict {
  const basis = gpu.cudaBytes !== null ? 'cuda-total-global-mem' : 'nvml-total';
  const total = gpu.cudaBytes ?? gpu.nvmlBytes;
  const outside = opts.nonPyTorchBytes ?? 0;
  const limitBytes = total - outside;
  const r = simulateAllocator(events, { config: opts.config, deviceBytes: limitBytes });
  const notes: string[] = [];
  if (basis === 'nvml-total') notes.push(`${gpu.name}: limit from NVML's total, which is larger than the CUDA runtime's totalGlobalMem cudaMalloc draws from`);
  if (outside === 0) notes.push('memory outside PyTorch (CUDA context, library workspaces) is not subtracted; measure it with nvidia-smi and pass it');
  return {
    gpu, limitBytes, basis,
    fits: r.oom === null,
    peakReservedBytes: r.peakReserved.bytes,
    peakAllocatedBytes: r.peakAllocated.bytes,
    headroomBytes: r.oom === null ? limitBytes - r.peakReserved.bytes : null,
    oom: r.oom,
    notes,
  };
}
