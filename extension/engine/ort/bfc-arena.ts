// ONNX Runtime's BFC arena (onnxruntime/core/framework/bfc_arena.cc, bfc_arena.h), replayed over an
// allocation sequence so that its chunk bytes in use, its peak and the regions it holds follow
// from the requests. Each rule below names the function of bfc_arena.cc it reproduces.
//
// Addresses matter only where two free chunks of one bin have the same size (the bin's set is
// ordered by size, then address). Inside a region addresses rise; regions come from the device
// allocator (posix_memalign on CPU), which for large blocks maps each new region below the previous
// one, so later regions get lower addresses here.

export type ArenaExtendStrategy = 'next-power-of-two' | 'same-as-requested';

export interface BfcArenaConfig {
  extendStrategy: ArenaExtendStrategy;
  /** First region size for kNextPowerOfTwo (OrtArenaCfg initial_chunk_size_bytes). */
  initialChunkBytes: number;
  /** A free chunk is split when the leftover reaches this (max_dead_bytes_per_chunk). */
  maxDeadBytesPerChunk: number;
  /** Cap on the doubling after an exact fit (max_power_of_two_extend_bytes, ORT >= 1.17). */
  maxPowerOfTwoExtendBytes: number;
}

/** OrtArenaCfg defaults (ArenaConfig::DEFAULT_*), used by the CPU and CUDA providers unless set. */
export const ORT_ARENA_DEFAULTS: BfcArenaConfig = {
  extendStrategy: 'next-power-of-two',
  initialChunkBytes: 1 << 20,
  maxDeadBytesPerChunk: 128 << 20,
  maxPowerOfTwoExtendBytes: 1 << 30,
};

/** kMinAllocationSize: every request rounds up to a multiple of 256 B (RoundedBytes). */
export const MIN_ALLOCATION_BYTES = 256;
/** kNumBins: bin i holds free chunks of [256·2^i, 256·2^(i+1)); the last one everything above. */
export const NUM_BINS = 21;

export function roundedBytes(bytes: number): number {
  return Math.ceil(bytes / MIN_ALLOCATION_BYTES) * MIN_ALLOCATION_BYTES;
}

/** BinNumForSize: floor(log2(bytes >> 8)), capped at the last bin. */
export function binForSize(bytes: number): number {
  const units = Math.floor(bytes / MIN_ALLOCATION_BYTES);
  return units <= 1 ? 0 : Math.min(NUM_BINS - 1, Math.floor(Math.log2(units)));
}

const NONE = -1;

interface Chunk {
  ptr: number;
  size: number;
  /** Bytes the caller asked for; 0 while free. */
  requested: number;
  inUse: boolean;
  prev: number;
  next: number;
}

export interface ArenaStats {
  /** Chunk bytes in use (stats_.bytes_in_use). */
  inUseBytes: number;
  /** Bytes callers asked for and hold. */
  requestedInUseBytes: number;
  /** Largest chunk bytes in use since the arena was made (stats_.max_bytes_in_use). */
  peakInUseBytes: number;
  /** Bytes of all regions and reserved blocks (stats_.total_allocated_bytes). */
  heldBytes: number;
  regions: number[];
}

export class BfcArena {
  private readonly chunks: Chunk[] = [];
  /** Per bin, free chunk handles ordered by (size, address) as Bin::FreeChunkSet is. */
  private readonly bins: number[][] = Array.from({ length: NUM_BINS }, () => []);
  private currRegionBytes: number;
  private nextRegionTop = 2 ** 52;
  private readonly stats: ArenaStats = { inUseBytes: 0, requestedInUseBytes: 0, peakInUseBytes: 0, heldBytes: 0, regions: [] };

  constructor(private readonly config: BfcArenaConfig = ORT_ARENA_DEFAULTS) {
    this.currRegionBytes = roundedBytes(config.initialChunkBytes);
  }

  /** Chunk and requested bytes in use now. */
  inUse(): { inUseBytes: number; requestedInUseBytes: number } {
    return { inUseBytes: this.stats.inUseBytes, requestedInUseBytes: this.stats.requestedInUseBytes };
  }

  /** Chunk bytes in use now (inUse without the record, for a replay reading it after every node). */
  get inUseBytes(): number {
    return this.stats.inUseBytes;
  }

  /** Requested bytes in use now. */
  get requestedInUseBytes(): number {
    return this.stats.requestedInUseBytes;
  }

  snapshot(): ArenaStats {
    return { ...this.stats, regions: [...this.stats.regions] };
  }

  /** The chunk's address and size (for inspection: which chunk a request got). */
  chunkOf(h: number): { address: number; size: number } {
    const c = this.chunks[h];
    return { address: c.ptr, size: c.size };
  }

  /**
   * Reserve: memory taken straight from the device allocator, outside the regions and unrounded,
   * yet counted in bytes in use and in the total allocated (ORT copies small initializers so).
   */
  reserve(bytes: number): void {
    if (bytes <= 0) return;
    this.stats.inUseBytes += bytes;
    this.stats.requestedInUseBytes += bytes;
    this.stats.peakInUseBytes = Math.max(this.stats.peakInUseBytes, this.stats.inUseBytes);
    this.stats.heldBytes += bytes;
  }

  /** Frees reserved memory (BFCArena::Free of a reserved chunk gives it back to the device at once). */
  unreserve(bytes: number): void {
    if (bytes <= 0) return;
    this.stats.inUseBytes -= bytes;
    this.stats.requestedInUseBytes -= bytes;
    this.stats.heldBytes -= bytes;
  }

  /** AllocateRawInternal: a handle for `bytes`, or null for a 0-byte request (ORT returns nullptr). */
  allocate(bytes: number): number | null {
    if (bytes <= 0) return null;
    const rounded = roundedBytes(bytes);
    let h = this.findChunk(rounded, bytes);
    if (h === NONE) {
      this.extend(rounded);
      h = this.findChunk(rounded, bytes);
    }
    return h;
  }

  /** Free -> FreeAndMaybeCoalesce. */
  free(h: number): void {
    const c = this.chunks[h];
    if (!c?.inUse) throw new Error(`internal: arena chunk ${h} is not in use`);
    this.stats.inUseBytes -= c.size;
    this.stats.requestedInUseBytes -= c.requested;
    c.inUse = false;
    c.requested = 0;
    this.insertFree(this.coalesce(h));
  }

  /** FindChunkPtr: from the request's bin upwards, the smallest free chunk that fits, lowest address first. */
  private findChunk(rounded: number, bytes: number): number {
    for (let b = binForSize(rounded); b < NUM_BINS; b++) {
      const bin = this.bins[b];
      const i = this.lowerBound(bin, rounded, -Infinity);
      if (i < bin.length) {
        const h = bin[i];
        removeAt(bin, i);
        return this.takeChunk(h, rounded, bytes);
      }
    }
    return NONE;
  }

  /** SplitFreeChunkFromBin: split when the chunk is at least twice the request or the leftover reaches max_dead_bytes. */
  private takeChunk(h: number, rounded: number, bytes: number): number {
    const c = this.chunks[h];
    if (c.size >= rounded * 2 || c.size - rounded >= this.config.maxDeadBytesPerChunk) this.split(h, rounded);
    c.inUse = true;
    c.requested = bytes;
    this.stats.inUseBytes += c.size;
    this.stats.requestedInUseBytes += bytes;
    this.stats.peakInUseBytes = Math.max(this.stats.peakInUseBytes, this.stats.inUseBytes);
    return h;
  }

  /** SplitChunk: the remainder after `bytes` becomes a free chunk, linked after `h`. */
  private split(h: number, bytes: number): void {
    const c = this.chunks[h];
    const rest: Chunk = { ptr: c.ptr + bytes, size: c.size - bytes, requested: 0, inUse: false, prev: h, next: c.next };
    const r = this.chunks.push(rest) - 1;
    if (c.next !== NONE) this.chunks[c.next].prev = r;
    c.next = r;
    c.size = bytes;
    this.insertFree(r);
  }

  /** Coalesce: merge with a free next, then a free previous neighbour; neighbours never cross regions. */
  private coalesce(h: number): number {
    let keep = h;
    const c = this.chunks[h];
    if (c.next !== NONE && !this.chunks[c.next].inUse) {
      this.removeFree(c.next);
      this.merge(h, c.next);
    }
    if (c.prev !== NONE && !this.chunks[c.prev].inUse) {
      keep = c.prev;
      this.removeFree(c.prev);
      this.merge(c.prev, h);
    }
    return keep;
  }

  private merge(h1: number, h2: number): void {
    const c1 = this.chunks[h1], c2 = this.chunks[h2];
    c1.next = c2.next;
    if (c2.next !== NONE) this.chunks[c2.next].prev = h1;
    c1.size += c2.size;
  }

  /** Extend: a new region, kNextPowerOfTwo doubling until the request fits (capped after an exact fit), or kSameAsRequested. */
  private extend(rounded: number): void {
    let bytes: number;
    if (this.config.extendStrategy === 'same-as-requested') {
      bytes = rounded;
    } else {
      let increased = false;
      while (rounded > this.currRegionBytes) {
        this.currRegionBytes *= 2;
        increased = true;
      }
      bytes = this.currRegionBytes;
      if (!increased) {
        const cap = this.config.maxPowerOfTwoExtendBytes;
        this.currRegionBytes = this.currRegionBytes < cap / 2 ? this.currRegionBytes * 2 : cap;
      }
    }
    this.nextRegionTop -= bytes;
    const h = this.chunks.push({ ptr: this.nextRegionTop, size: bytes, requested: 0, inUse: false, prev: NONE, next: NONE }) - 1;
    this.stats.heldBytes += bytes;
    this.stats.regions.push(bytes);
    this.insertFree(h);
  }

  private insertFree(h: number): void {
    const c = this.chunks[h];
    const bin = this.bins[binForSize(c.size)];
    insertAt(bin, this.lowerBound(bin, c.size, c.ptr), h);
  }

  private removeFree(h: number): void {
    const c = this.chunks[h];
    const bin = this.bins[binForSize(c.size)];
    const i = this.lowerBound(bin, c.size, c.ptr);
    if (bin[i] !== h) throw new Error(`internal: arena chunk ${h} missing from its bin`);
    removeAt(bin, i);
  }

  /** First position in `bin` whose (size, ptr) is not below (size, ptr). */
  private lowerBound(bin: number[], size: number, ptr: number): number {
    let lo = 0, hi = bin.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = this.chunks[bin[mid]];
      if (c.size < size || (c.size === size && c.ptr < ptr)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

// Array.prototype.splice, without the array of removed elements it makes on every call.
function removeAt(a: number[], i: number): void {
  for (let k = i; k < a.length - 1; k++) a[k] = a[k + 1];
  a.pop();
}

function insertAt(a: number[], i: number, x: number): void {
  a.push(x);
  for (let k = a.length - 1; k > i; k--) a[k] = a[k - 1];
  a[i] = x;
}
