// The buffer sequence as an allocator sees it: at each step the buffers that come alive (requests,
// largest first, as planners place them) and those that die after it (frees). This is where an
// allocator model plugs in (ONNX Runtime's allocation planner and BFC arena; PyTorch's caching
// allocator): it reads the sequence and returns the bytes requested and held at each step.
import type { Buffer } from './buffer-types';

export interface AllocationStep {
  step: number;
  /** Indices into the buffer list of the transient buffers born at this step. */
  allocate: number[];
  /** Indices of the transient buffers whose last step this is. */
  free: number[];
}

export interface AllocatorFigures {
  /** Bytes the graph has asked for and not yet freed, after each step's requests. */
  requested: Float64Array;
  /** Bytes the allocator holds from the system at each step (>= requested). */
  held: Float64Array;
}

/** An allocator model over the transient buffers (persistent ones are allocated once, outside it). */
export type AllocatorModel = (sequence: readonly AllocationStep[], buffers: readonly Buffer[]) => AllocatorFigures;

/** Requests and frees per step of the transient (non-persistent, non-empty) buffers. */
export function allocationSequence(buffers: readonly Buffer[], stepCount: number): AllocationStep[] {
  const steps: AllocationStep[] = Array.from({ length: stepCount }, (_, step) => ({ step, allocate: [], free: [] }));
  buffers.forEach((b, i) => {
    if (b.persistent || b.bytes === 0) return;
    steps[b.start].allocate.push(i);
    steps[b.end].free.push(i);
  });
  for (const s of steps) s.allocate.sort((a, b) => buffers[b].bytes - buffers[a].bytes || a - b);
  return steps;
}

/** The allocator that holds exactly what is requested: perfect reuse, no rounding (the lower bound). */
export const exactAllocator: AllocatorModel = (sequence, buffers) => {
  const requested = new Float64Array(sequence.length);
  let live = 0;
  for (const s of sequence) {
    for (const i of s.allocate) live += buffers[i].bytes;
    requested[s.step] = live;
    for (const i of s.free) live -= buffers[i].bytes;
  }
  return { requested, held: Float64Array.from(requested) };
};
