// Paired A/B timing for `npm run bench`. Each pair times A and B back to back, alternating which
// goes first (ABBA), so load from other processes and slow drift fall on both alike; the figure is
// the ratio within each pair, summarised as median, min and max over the pairs. Warm-up pairs
// (JIT, caches, first allocations) are run and discarded.

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface Paired {
  aMs: Spread;
  bMs: Spread;
  /** b / a within each pair. */
  ratio: Spread;
  pairs: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function spread(xs: number[]): Spread {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

/** Milliseconds per call over `repeat` back-to-back calls (a block, for calls too short to time alone). */
function timeOnce(fn: () => void, repeat = 1): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < repeat; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1e6 / repeat;
}

/**
 * Calls per timed block so that a block of the slower of a and b takes about `targetMs`: a call of
 * a millisecond is at the mercy of one scavenge or one timer tick, a block of twenty is not.
 */
export function blockSize(a: () => void, b: () => void, targetMs = 20): number {
  a();
  b();
  const slower = Math.max(timeOnce(a), timeOnce(b));
  return Math.max(1, Math.min(1000, Math.ceil(targetMs / Math.max(slower, 1e-3))));
}

async function timeOnceAsync(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function summarise(a: number[], b: number[]): Paired {
  return { aMs: spread(a), bMs: spread(b), ratio: spread(b.map((x, i) => x / a[i])), pairs: a.length };
}

/** A/B pairs in ABBA order; with `repeat` > 1 each side of a pair is a block of that many calls, per call. */
export function pairedSync(a: () => void, b: () => void, pairs: number, warmup = 1, repeat = 1): Paired {
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < warmup + pairs; i++) {
    let ta: number;
    let tb: number;
    if (i % 2 === 0) {
      ta = timeOnce(a, repeat);
      tb = timeOnce(b, repeat);
    } else {
      tb = timeOnce(b, repeat);
      ta = timeOnce(a, repeat);
    }
    if (i < warmup) continue;
    as.push(ta);
    bs.push(tb);
  }
  return summarise(as, bs);
}

/** As pairedSync; each side's figure in a pair may be a block (the caller returns its own ms). */
export async function pairedAsync(
  a: () => Promise<number | void>, b: () => Promise<number | void>, pairs: number, warmup = 1,
): Promise<Paired> {
  const as: number[] = [];
  const bs: number[] = [];
  const one = async (fn: () => Promise<number | void>) => {
    let own: number | void = undefined;
    const wall = await timeOnceAsync(async () => { own = await fn(); });
    return typeof own === 'number' ? own : wall;
  };
  for (let i = 0; i < warmup + pairs; i++) {
    let ta: number;
    let tb: number;
    if (i % 2 === 0) {
      ta = await one(a);
      tb = await one(b);
    } else {
      tb = await one(b);
      ta = await one(a);
    }
    if (i < warmup) continue;
    as.push(ta);
    bs.push(tb);
  }
  return summarise(as, bs);
}

/**
 * Pairs whose two figures the caller makes itself (each side a block of runs, say); the first
 * `warmup` pairs are made and discarded.
 */
export async function pairedBlocks(
  pair: (index: number) => Promise<{ a: number; b: number }>, pairs: number, warmup = 1,
): Promise<Paired> {
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < warmup + pairs; i++) {
    const { a, b } = await pair(i);
    if (i < warmup) continue;
    as.push(a);
    bs.push(b);
  }
  return summarise(as, bs);
}

/**
 * `rounds` timed calls of each of a and b, alternating run by run in ABBA order (`phase` flips
 * which goes first), so both sides see the same load from other processes; each side's figure is
 * the median of its calls.
 */
export async function interleaved(
  a: () => Promise<unknown>, b: () => Promise<unknown>, rounds: number, phase = 0,
): Promise<{ a: number; b: number }> {
  const as: number[] = [];
  const bs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if ((r + phase) % 2 === 0) {
      as.push(await timeOnceAsync(a));
      bs.push(await timeOnceAsync(b));
    } else {
      bs.push(await timeOnceAsync(b));
      as.push(await timeOnceAsync(a));
    }
  }
  return { a: median(as), b: median(bs) };
}

export const fmtSpread = (s: Spread, digits: number, unit = '') =>
  `${s.median.toFixed(digits)}${unit} (min ${s.min.toFixed(digits)}, max ${s.max.toFixed(digits)})`;

/** A speed goal and whether this run met it. `measured: false` says it could not be measured here. */
export interface Goal {
  name: string;
  figure: string;
  limit: string;
  met: boolean;
  measured: boolean;
}

export function verdict(g: Goal): string {
  return g.measured ? (g.met ? 'MET' : 'MISSED') : 'NOT MEASURED';
}

