// Blocks and block pools of the simulated caching allocator (c10/cuda/CUDACachingAllocator.cpp:
// struct Block, struct BlockPool, BlockComparatorSize, BlockComparatorAddress). A segment is a
// chain of blocks linked by prev/next; free blocks wait in their pool, ordered by stream, then
// size, then address, so a search for the smallest fitting block on a stream is a lower bound.

export interface Block {
  readonly id: number;
  readonly stream: number;
  size: number;
  /** Bytes the caller asked for (requested_size). */
  requested: number;
  ptr: number;
  readonly pool: BlockPool;
  allocated: boolean;
  /** False only for the unmapped address space of an expandable segment. */
  mapped: boolean;
  prev: Block | null;
  next: Block | null;
  readonly expandable: ExpandableSegment | null;
}

/** An expandable segment's reserved address range, mapped page by page (struct ExpandableSegment). */
export interface ExpandableSegment {
  readonly base: number;
  readonly pageSize: number;
  readonly pages: number;
  readonly stream: number;
}

export interface BlockKey {
  readonly stream: number;
  readonly size: number;
  readonly ptr: number;
}

type Compare = (a: BlockKey, b: BlockKey) => number;

const bySize: Compare = (a, b) => a.stream - b.stream || a.size - b.size || a.ptr - b.ptr;
const byAddress: Compare = (a, b) => a.stream - b.stream || a.ptr - b.ptr;

/** A sorted set of blocks (std::set with the comparators above). */
export class OrderedBlocks {
  private readonly items: Block[] = [];
  constructor(private readonly cmp: Compare) {}

  get length(): number {
    return this.items.length;
  }

  at(i: number): Block | undefined {
    return this.items[i];
  }

  /** Index of the first block not ordered before `key`. */
  lowerBound(key: BlockKey): number {
    let lo = 0, hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cmp(this.items[mid], key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(b: Block): void {
    const i = this.lowerBound(b);
    if (this.items[i] === b) throw new Error(`block ${b.id} is already in the pool`);
    this.items.splice(i, 0, b);
  }

  erase(b: Block): boolean {
    const i = this.lowerBound(b);
    if (this.items[i] !== b) return false;
    this.items.splice(i, 1);
    return true;
  }

  values(): readonly Block[] {
    return this.items;
  }
}

export class BlockPool {
  /** Free, mapped blocks. */
  readonly blocks = new OrderedBlocks(bySize);
  /** Unmapped address space of expandable segments. */
  readonly unmapped = new OrderedBlocks(byAddress);
  constructor(readonly isSmall: boolean) {}
}

export function isSplit(b: Block): boolean {
  return b.prev !== null || b.next !== null;
}
