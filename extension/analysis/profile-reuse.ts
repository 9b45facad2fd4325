// The analysis of a graph equal to one analysed a moment ago, reused. An edit that leaves the
// exported graph as it was (a comment, a print, a rename outside the model) exports the same bytes
// with the same annotations (a moved line changes those); with the same settings and session the
// analysis, a pure function of them, gives the same profile. The editor's engine worker keeps the
// last few; each caller gets its own copy (callers add warnings and measurements to theirs).
import { createHash } from 'node:crypto';
import type { Profile } from '../engine/profile';

/** Profiles kept: a file being edited, and a few others open beside it. */
const KEPT = 4;
const kept = new Map<string, Profile>();
let hits = 0;

/** The profile of `contentHash` analysed with `inputs` (everything else the analysis reads), from
 * the kept ones when one matches, else from `analyse`, then kept. */
export function reusedAnalysis(contentHash: string, inputs: unknown, analyse: () => Profile): Profile {
  const key = createHash('sha256').update(contentHash).update(JSON.stringify(inputs)).digest('hex');
  const hit = kept.get(key);
  if (hit) {
    hits++;
    // Most recently used last: the oldest is the one dropped.
    kept.delete(key);
    kept.set(key, hit);
    return copyOf(hit);
  }
  const profile = analyse();
  kept.set(key, copyOf(profile));
  while (kept.size > KEPT) kept.delete(kept.keys().next().value as string);
  return profile;
}

/** A deep copy of plain data that keeps each object's prototype: the settings' dims are a
 * null-prototype record (a dim may be named `constructor`), which structuredClone would not keep. */
function copyOf<T>(value: T): T {
  if (Array.isArray(value)) return value.map(copyOf) as T;
  if (value === null || typeof value !== 'object') return value;
  const out = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
  for (const [k, v] of Object.entries(value)) out[k] = copyOf(v);
  return out as T;
}

/** How many analyses were reused so far, and how many profiles are kept (tests). */
export function reuseCounts(): { reused: number; kept: number } {
  return { reused: hits, kept: kept.size };
}
