// The estimate's forward bytes in the terms of what a run measured: the arena's share of a step
// (live bytes less weights and the inputs the caller owns), or, when the run gives process RSS
// growth instead of arena figures, live bytes less the caller's inputs (weights grow RSS too).
import type { TimelinePoint } from '../engine/profile';
import type { SessionFigures } from './types';

/** A step's bytes in ONNX Runtime's arena: what is live, less weights and caller-owned inputs. */
export function arenaShare(p: TimelinePoint): number {
  return Math.max(0, p.liveBytes - p.byCategory.weights - p.callerBytes);
}

/** The largest forward step's bytes as the measured peak counts them (ideal plan, no simulation). */
export function idealForwardPeak(forward: readonly TimelinePoint[], peakSource: SessionFigures['peakSource']): number {
  if (peakSource === 'rss-delta') return forward.reduce((m, p) => Math.max(m, p.liveBytes - p.callerBytes), 0);
  return forward.reduce((m, p) => Math.max(m, arenaShare(p)), 0);
}
