// The size below which a per-line figure is too small to show (`16 B at peak` beside a 500 MiB
// peak says nothing). One rule for the CLI's table, the inline figures and the hover: a share of
// the peak (`0.1%`, the default, so it scales from a 1 MiB model to a 100 GiB one), a size
// (`1MiB`), or `0` to show every figure. The profile itself keeps every byte.
import { MemlensError } from '../engine/errors';
import { parseBytes } from '../engine/units';

export const DEFAULT_HIDE_BELOW = '0.1%';

export type FigureThreshold = { kind: 'share'; share: number } | { kind: 'bytes'; bytes: number };

/** `0.1%` -> a share, `1MiB` / `0` -> bytes; anything else is one line naming `what`. */
export function parseThreshold(text: string, what: string): FigureThreshold {
  const pct = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (pct) {
    const share = Number(pct[1]) / 100;
    if (share > 1) throw new MemlensError(`${what}: '${text}' is over 100% of the peak`);
    return { kind: 'share', share };
  }
  if (/^\s*0+(?:\.0+)?\s*$/.test(text)) return { kind: 'bytes', bytes: 0 };
  if (/^\s*\d+(?:\.\d+)?\s*$/.test(text)) throw new MemlensError(`${what}: '${text}' has no unit; write a share of the peak (0.1%) or a size (1MiB)`);
  try {
    return { kind: 'bytes', bytes: parseBytes(text, what) };
  } catch {
    throw new MemlensError(`${what}: cannot read '${text}'; write a share of the peak (0.1%), a size (1MiB) or 0 to show every figure`);
  }
}

/** The threshold in bytes for a profile whose peak is `peakBytes`. */
export function thresholdBytes(t: FigureThreshold, peakBytes: number): number {
  return t.kind === 'share' ? t.share * peakBytes : t.bytes;
}

/** Whether a figure is worth showing: non-zero and at least the threshold. */
export function shown(bytes: number, minBytes: number): boolean {
  return bytes > 0 && bytes >= minBytes;
}
