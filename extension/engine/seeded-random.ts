// Seeded pseudo-random numbers (mulberry32): the same seed gives the same inputs and weights, so
// two runs of one model are comparable. The runner's inputs and the model API's materialised
// weights both draw from it.

export type Rng = () => number;

/** Uniform in [0, 1). */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
