// Runs the simulated caching allocator over a sequence of allocation events (sizes and ids, as
// an estimated or recorded step produces them) and reports allocated and reserved memory after
// every event, their peaks overall and per phase, the segments at the reserved peak, and the
// first out-of-memory error on a device of the given size.
import { MemlensError } from '../errors';
import { CachingAllocator } from './allocator';
import type { Block } from './blocks';
import { DEFAULT_ALLOCATOR_CONFIG, type AllocatorConfig } from './config';
import { fragmentationOf, segmentsOf, type Fragmentation, type SimSegment } from './segment-view';

export type AllocatorEvent =
  | { readonly kind: 'alloc'; readonly id: string; readonly bytes: number; readonly stream?: number }
  | { readonly kind: 'free'; readonly id: string }
  | { readonly kind: 'empty_cache' }
  /** Starts a named phase (forward, backward, optimizer step...) for per-phase peaks. */
  | { readonly kind: 'phase'; readonly name: string };

export interface SimulationOptions {
  readonly config?: AllocatorConfig;
  /** What cudaMalloc can get in all; Infinity (the default) never runs out. */
  readonly deviceBytes?: number;
}

/** A peak and the index of the event after which it was first reached. */
export interface PeakPoint {
  readonly bytes: number;
  readonly event: number;
}

export interface PhasePeaks {
  readonly name: string;
  readonly firstEvent: number;
  readonly allocatedPeak: number;
  readonly reservedPeak: number;
}

export interface OutOfMemory {
  readonly event: number;
  readonly id: string;
  readonly requestedBytes: number;
  /** The request after rounding, and the segment cudaMalloc was asked for (PyTorch's "Tried to allocate"). */
  readonly roundedBytes: number;
  readonly allocSize: number;
  readonly allocatedBytes: number;
  readonly reservedBytes: number;
  readonly deviceBytes: number;
}

export interface SimulationResult {
  readonly config: AllocatorConfig;
  readonly deviceBytes: number;
  /** memory_allocated() and memory_reserved() after each event (up to an out-of-memory error). */
  readonly allocated: readonly number[];
  readonly reserved: readonly number[];
  readonly peakAllocated: PeakPoint;
  readonly peakReserved: PeakPoint;
  readonly phases: readonly PhasePeaks[];
  readonly final: { readonly allocatedBytes: number; readonly reservedBytes: number };
  /** The allocator's segments and fragmentation right after the reserved peak was first reached. */
  readonly atPeak: { readonly event: number; readonly segments: readonly SimSegment[]; readonly fragmentation: Fragmentation };
  readonly deviceAllocs: number;
  readonly deviceFrees: number;
  readonly allocRetries: number;
  readonly oom: OutOfMemory | null;
}

interface Run {
  readonly alloc: CachingAllocator;
  readonly allocated: number[];
  readonly reserved: number[];
  readonly phases: { name: string; firstEvent: number; allocatedPeak: number; reservedPeak: number }[];
  oom: OutOfMemory | null;
}

/** Replays events [0, stop) on a fresh allocator. */
function replay(events: readonly AllocatorEvent[], config: AllocatorConfig, deviceBytes: number, stop: number): Run {
  const run: Run = { alloc: new CachingAllocator(config, deviceBytes), allocated: [], reserved: [], phases: [], oom: null };
  const live = new Map<string, Block | null>();
  for (let i = 0; i < stop && !run.oom; i++) {
    const e = events[i];
    if (e.kind === 'alloc') run.oom = allocate(run, live, e, i, deviceBytes);
    else if (e.kind === 'free') {
      const b = live.get(e.id);
      if (b === undefined) throw new MemlensError(`allocation events: event ${i} frees '${e.id}', which is not allocated`);
      if (b) run.alloc.free(b);
      live.delete(e.id);
    } else if (e.kind === 'empty_cache') run.alloc.emptyCache();
    else run.phases.push({ name: e.name, firstEvent: i, allocatedPeak: run.alloc.stats.allocated, reservedPeak: run.alloc.stats.reserved });
    if (run.oom) break;
    const s = run.alloc.stats, phase = run.phases[run.phases.length - 1];
    run.allocated.push(s.allocated);
    run.reserved.push(s.reserved);
    if (phase) {
      phase.allocatedPeak = Math.max(phase.allocatedPeak, s.allocated);
      phase.reservedPeak = Math.max(phase.reservedPeak, s.reserved);
    }
  }
  return run;
}

function allocate(run: Run, live: Map<string, Block | null>, e: Extract<AllocatorEvent, { kind: 'alloc' }>, i: number, deviceBytes: number): OutOfMemory | null {
  if (!Number.isSafeInteger(e.bytes) || e.bytes < 0) throw new MemlensError(`allocation events: event ${i} ('${e.id}') has size ${e.bytes}; expected a whole number of bytes >= 0`);
  if (live.has(e.id)) throw new MemlensError(`allocation events: event ${i} allocates '${e.id}', which is already allocated`);
  // A zero-byte tensor never reaches the caching allocator (NativeCachingAllocator::allocate).
  if (e.bytes === 0) {
    live.set(e.id, null);
    return null;
  }
  const r = run.alloc.malloc(e.bytes, e.stream ?? 0);
  if (r.kind === 'ok') {
    live.set(e.id, r.block);
    return null;
  }
  const s = run.alloc.stats;
  return { event: i, id: e.id, requestedBytes: e.bytes, roundedBytes: r.rounded, allocSize: r.allocSize, allocatedBytes: s.allocated, reservedBytes: s.reserved, deviceBytes };
}

function peakOf(series: readonly number[]): PeakPoint {
  let bytes = 0, event = -1;
  series.forEach((v, i) => {
    if (v > bytes) [bytes, event] = [v, i];
  });
  return { bytes, event };
}

export function simulateAllocator(events: readonly AllocatorEvent[], opts: SimulationOptions = {}): SimulationResult {
  const config = opts.config ?? DEFAULT_ALLOCATOR_CONFIG, deviceBytes = opts.deviceBytes ?? Infinity;
  const run = replay(events, config, deviceBytes, events.length);
  const peakReserved = peakOf(run.reserved);
  // The allocator is deterministic: replaying up to the peak reproduces the state at the peak.
  const atPeakRun = replay(events, config, deviceBytes, peakReserved.event + 1);
  const s = run.alloc.stats;
  return {
    config, deviceBytes,
    allocated: run.allocated, reserved: run.reserved,
    peakAllocated: peakOf(run.allocated), peakReserved,
    phases: run.phases,
    final: { allocatedBytes: s.allocated, reservedBytes: s.reserved },
    atPeak: { event: peakReserved.event, segments: segmentsOf(atPeakRun.alloc.core), fragmentation: fragmentationOf(atPeakRun.alloc.core) },
    deviceAllocs: s.numDeviceAlloc, deviceFrees: s.numDeviceFree, allocRetries: s.numAllocRetries,
    oom: run.oom,
  };
}
