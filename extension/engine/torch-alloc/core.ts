// State shared by the simulated allocator's parts: its settings, the device's size, the two
// pools, the blocks in use, the expandable segments and the counters. Device addresses are
// simulated: each cudaMalloc or address reservation gets a fresh range above the previous one.
import { BlockPool, type Block, type ExpandableSegment } from './blocks';
import type { AllocatorConfig } from './config';
import { AllocatorStats } from './stats';
import { ROUND_LARGE } from './sizes';

/** One request as malloc() sees it (struct AllocParams). */
export interface AllocParams {
  readonly stream: number;
  /** The rounded size (round_size). */
  readonly size: number;
  readonly pool: BlockPool;
  /** The segment a cudaMalloc would get (get_allocation_size). */
  readonly allocSize: number;
}

export class AllocatorCore {
  readonly stats = new AllocatorStats();
  readonly small = new BlockPool(true);
  readonly large = new BlockPool(false);
  readonly active = new Set<Block>();
  readonly expandableSegments: ExpandableSegment[] = [];
  private nextId = 0;
  private nextAddress = 0x7f00_0000_0000;

  /**
   * @param deviceBytes what cudaMalloc can get in all (device memory less the CUDA context and
   * anything else outside PyTorch); Infinity for no limit.
   */
  constructor(readonly config: AllocatorConfig, readonly deviceBytes: number) {}

  newBlock(init: Omit<Block, 'id' | 'allocated' | 'requested' | 'prev' | 'next'> & Partial<Pick<Block, 'prev' | 'next'>>): Block {
    return { id: this.nextId++, allocated: false, requested: 0, prev: null, next: null, ...init };
  }

  /** A fresh device address range of `bytes`, aligned to 2 MiB. */
  reserveAddress(bytes: number): number {
    const at = this.nextAddress;
    this.nextAddress += Math.ceil(bytes / ROUND_LARGE) * ROUND_LARGE;
    return at;
  }

  /** Whether cudaMalloc (or cuMemCreate) of `bytes` more succeeds on this device. */
  deviceHasRoom(bytes: number): boolean {
    return this.stats.reserved + bytes <= this.deviceBytes;
  }

  poolOf(small: boolean): BlockPool {
    return small ? this.small : this.large;
  }

  /** Merges free neighbour `src` into `dst` (try_merge_blocks); returns the bytes taken over, 0 if it cannot. */
  tryMerge(dst: Block, src: Block | null): number {
    if (!src || src.allocated || dst.mapped !== src.mapped) return 0;
    if (dst.prev === src) {
      dst.ptr = src.ptr;
      dst.prev = src.prev;
      if (dst.prev) dst.prev.next = dst;
    } else {
      dst.next = src.next;
      if (dst.next) dst.next.prev = dst;
    }
    dst.size += src.size;
    if (src.mapped) dst.pool.blocks.erase(src);
    else dst.pool.unmapped.erase(src);
    return src.size;
  }
}
