// The allocator's counters (DeviceStats in c10/core/CachingDeviceAllocator.h), for the figures
// the simulation reports: allocated_bytes counts rounded block sizes, reserved_bytes segment
// (or mapped) sizes, requested_bytes what callers asked for; aggregate and per pool.

export interface PoolCounters {
  allocated: number;
  reserved: number;
  requested: number;
  segments: number;
}

export class AllocatorStats {
  readonly small: PoolCounters = { allocated: 0, reserved: 0, requested: 0, segments: 0 };
  readonly large: PoolCounters = { allocated: 0, reserved: 0, requested: 0, segments: 0 };
  peakAllocated = 0;
  peakReserved = 0;
  /** cudaMalloc / cuMemMap calls, and cudaFree / unmap calls. */
  numDeviceAlloc = 0;
  numDeviceFree = 0;
  /** Mallocs that needed release_cached_blocks and a second cudaMalloc. */
  numAllocRetries = 0;
  numOoms = 0;

  pool(small: boolean): PoolCounters {
    return small ? this.small : this.large;
  }

  get allocated(): number {
    return this.small.allocated + this.large.allocated;
  }

  get reserved(): number {
    return this.small.reserved + this.large.reserved;
  }

  get requested(): number {
    return this.small.requested + this.large.requested;
  }

  addAllocated(small: boolean, blockBytes: number, requestedBytes: number): void {
    const p = this.pool(small);
    p.allocated += blockBytes;
    p.requested += requestedBytes;
    this.peakAllocated = Math.max(this.peakAllocated, this.allocated);
  }

  addReserved(small: boolean, bytes: number, segments: number): void {
    const p = this.pool(small);
    p.reserved += bytes;
    p.segments += segments;
    this.peakReserved = Math.max(this.peakReserved, this.reserved);
  }
}
