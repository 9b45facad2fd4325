// The Loop and Scan kernels at run time (onnxruntime/core/providers/cpu/controlflow/loop.cc,
// scan_9.cc, scan_utils.cc), replayed on the BFC arena: what they allocate themselves around
// their body's runs, and how long each buffer lives. The body's own plan is run by the caller.
import type { BfcArena } from './bfc-arena';

/** A planned buffer at run time: one arena chunk, or the elements of a sequence a Loop hands over. */
export type Held = number | number[] | null;

export interface LoopBody<G> {
  kind: 'loop';
  graph: G;
  trips: number;
  carried: number;
  /** The body's output names: condition, carried values, scan outputs. */
  outputs: string[];
  /** Per body output: the body input it hands back unchanged (an Identity the planner shares), else null. */
  passThrough: (number | null)[];
  /** Per body output: true for a carried sequence the body grows with SequenceInsert. */
  grows: boolean[];
  /** The Loop node's outputs (body output k is Loop output k - 1). */
  nodeOutputs: string[];
}

export interface ScanBody<G> {
  kind: 'scan';
  graph: G;
  trips: number;
  /** Bytes of each loop state variable. */
  stateBytes: number[];
}

/**
 * LoopImpl (loop.cc): the iteration number (int64) and condition (bool) scalars come from the
 * arena; each trip's fetches (cond, carried values, scan slices) become the next trip's feeds,
 * releasing the previous ones, and every trip's scan slices stay alive. After the last trip the
 * Loop allocates its outputs (carried copies, then the stacked scan outputs) and copies into them:
 * the peak. Everything else is released before the kernel returns.
 */
export function runLoop<G>(
  arena: BfcArena, body: LoopBody<G>, allocateOutputs: (adopted: Map<string, number[]>) => Set<string>,
  runBody: (graph: G) => Map<string, number | null>,
): void {
  const refs = new RefCounts(arena);
  // LoopImpl::Initialize makes the condition scalar, then the iteration number.
  let condition = refs.take(arena.allocate(1));
  const iter = refs.take(arena.allocate(8));
  // feeds: iteration number, condition, carried values (the first trip's are the Loop's inputs, not ours).
  const feeds: (number | null)[] = [iter, refs.hold(condition), ...new Array<number | null>(body.carried).fill(null)];
  const slices: (number | null)[] = [];
  // Per body output, the elements of a carried sequence: shared by every later sequence.
  const elements: number[][] = body.outputs.map(() => []);
  let fetches: (number | null)[] = [];
  for (let t = 0; t < body.trips; t++) {
    if (t > 0) {
      for (let i = 1; i < feeds.length; i++) {
        refs.hold(fetches[i - 1]);
        refs.drop(feeds[i]);
        feeds[i] = fetches[i - 1];
      }
      for (const h of fetches.slice(1 + body.carried)) slices.push(refs.hold(h));
      for (const h of fetches) refs.drop(h);
    }
    const out = runBody(body.graph);
    // A shared pass-through hands back the feed itself; the rest are buffers the body allocated.
    fetches = body.outputs.map((name, k) => {
      const j = body.passThrough[k];
      return j !== null ? refs.hold(feeds[j] ?? null) : refs.take(out.get(name) ?? null);
    });
    body.grows.forEach((g, k) => {
      const h = fetches[k];
      if (g && h !== null) elements[k].push(refs.hold(h) as number);
    });
    refs.drop(condition);
    condition = refs.hold(fetches[0]);
  }
  // The last trip's scan slices join the others before the outputs are allocated.
  for (const h of fetches.slice(1 + body.carried)) slices.push(refs.hold(h));
  // A carried sequence becomes the Loop's output as it is, its elements not copied (measured:
  // the Loop's end adds nothing to the arena for it), and lives as long as that output.
  const adopted = new Map<string, number[]>();
  body.grows.forEach((g, k) => { if (g && k > 0 && body.nodeOutputs[k - 1]) adopted.set(body.nodeOutputs[k - 1], elements[k]); });
  const taken = allocateOutputs(adopted);
  for (const [name, chunks] of adopted) if (taken.has(name)) for (const h of chunks) refs.hold(h);
  // Execute's locals (fetches, then feeds), then LoopImpl's members.
  for (const h of [...fetches, ...feeds, ...slices, ...elements.flat(), condition]) refs.drop(h);
}

/**
 * Scan's loop state variables (scan_utils.cc LoopStateVariable): trips alternate between the
 * state's input, two temporary buffers of its size (one with two trips, none with one) and the
 * Scan's output; the temporaries are released when the iterations end.
 */
export function runScan<G>(arena: BfcArena, body: ScanBody<G>, runBody: (graph: G) => void): void {
  const temps: (number | null)[] = [];
  for (const bytes of body.stateBytes) {
    if (body.trips > 1) temps.push(arena.allocate(bytes));
    if (body.trips > 2) temps.push(arena.allocate(bytes));
  }
  for (let t = 0; t < body.trips; t++) runBody(body.graph);
  for (const h of temps.reverse()) if (h !== null) arena.free(h);
}

/** OrtValues share their buffer by reference count: the arena chunk is freed when the last holder lets go. */
class RefCounts {
  private readonly counts = new Map<number, number>();
  constructor(private readonly arena: BfcArena) {}
  /** A new buffer, held once. */
  take(h: number | null): number | null {
    if (h !== null) this.counts.set(h, 1);
    return h;
  }
  hold(h: number | null): number | null {
    if (h !== null) this.counts.set(h, (this.counts.get(h) ?? 0) + 1);
    return h;
  }
  drop(h: number | null): void {
    if (h === null) return;
    const n = (this.counts.get(h) ?? 1) - 1;
    if (n > 0) this.counts.set(h, n);
    else {
      this.counts.delete(h);
      this.arena.free(h);
    }
  }
}
