// Time figures in messages (bytes use engine/units, as everywhere else in MemLens).

export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;
}
