// Live bytes at every step, by category, from buffer intervals (difference arrays: O(buffers + steps)).
import { CATEGORIES, type ByCategory, type Category } from '../profile';
import type { Buffer } from './buffer-types';
import { checkLiveTotals } from './invariants';

export interface LiveProfile {
  total: Float64Array;
  byCategory: Record<Category, Float64Array>;
  peakStep: number;
  peakBytes: number;
}

export function liveBytes(buffers: Buffer[], stepCount: number): LiveProfile {
  const diff = {} as Record<Category, Float64Array>;
  for (const c of CATEGORIES) diff[c] = new Float64Array(stepCount + 1);
  for (const b of buffers) {
    if (b.bytes === 0) continue;
    diff[b.category][b.start] += b.bytes;
    diff[b.category][b.end + 1] -= b.bytes;
  }
  const total = new Float64Array(stepCount);
  const byCategory = {} as Record<Category, Float64Array>;
  for (const c of CATEGORIES) {
    const out = new Float64Array(stepCount);
    let run = 0;
    for (let s = 0; s < stepCount; s++) {
      run += diff[c][s];
      out[s] = run;
      total[s] += run;
    }
    byCategory[c] = out;
  }
  checkLiveTotals(total, byCategory, buffers);
  let peakStep = 0;
  for (let s = 1; s < stepCount; s++) if (total[s] > total[peakStep]) peakStep = s;
  return { total, byCategory, peakStep, peakBytes: stepCount ? total[peakStep] : 0 };
}

/** The bytes of each category at a step, keys in CATEGORIES order (as emptyByCategory writes them). */
export function categoriesAt(live: LiveProfile, step: number): ByCategory {
  // One literal rather than a store per category by name: the timeline makes one per step.
  const b = live.byCategory;
  return {
    weights: b.weights[step] ?? 0, activations: b.activations[step] ?? 0, kvCache: b.kvCache[step] ?? 0,
    gradients: b.gradients[step] ?? 0, optimizerState: b.optimizerState[step] ?? 0, optimizerStep: b.optimizerStep[step] ?? 0,
    inputs: b.inputs[step] ?? 0, outputs: b.outputs[step] ?? 0, other: b.other[step] ?? 0,
  };
}
