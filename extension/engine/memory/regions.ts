// Checkpointed and offloaded regions (node metadata written by the rewrites and the tracers): a
// saved tensor produced inside one is off the device between its last forward use and its
// backward use, recomputed there (checkpoint) or fetched back from host memory (offload).
import { CHECKPOINT_KEY, OFFLOAD_KEY } from '../metadata-keys';
import type { RestoreHow } from './buffer-types';
import type { Schedule } from './schedule';
import type { TensorTable } from './tensor-table';

export interface CheckpointRegions {
  /** Region id -> its first backward step, where the region's forward is recomputed. */
  start: Map<string, number>;
  /** The checkpoint region a node position belongs to and its recompute step, or null. */
  recomputeStepOf(pos: number): number | null;
}

export function checkpointRegions(table: TensorTable, schedule: Schedule): CheckpointRegions {
  const start = new Map<string, number>();
  table.nodes.forEach((node, pos) => {
    const id = node.metadata[CHECKPOINT_KEY];
    const step = schedule.backwardStep.get(pos);
    if (id === undefined || step === undefined) return;
    start.set(id, Math.min(start.get(id) ?? Infinity, step));
  });
  const recomputeStepOf = (pos: number): number | null => {
    const id = table.nodes[pos].metadata[CHECKPOINT_KEY];
    return id === undefined ? null : start.get(id) ?? null;
  };
  return { start, recomputeStepOf };
}

/** A saved tensor's two device lifetimes: forward until `forwardEnd`, back from `backStart`. */
export interface RegionSplit {
  forwardEnd: number;
  backStart: number;
  how: RestoreHow;
}

/**
 * For saved tensors produced inside a checkpoint region and read only inside it: live in forward
 * until their last forward use, then again from the region's first backward step (recomputation
 * runs there). Offloaded ones come back one step before their first backward use (prefetch).
 */
export function regionSplits(
  table: TensorTable,
  schedule: Schedule,
  savedUntil: Map<string, number>,
  regions: CheckpointRegions,
): Map<string, RegionSplit> {
  const out = new Map<string, RegionSplit>();
  for (const [name, until] of savedUntil) {
    const t = table.tensors.get(name);
    if (!t || t.producer === null || t.isGraphOutput) continue;
    const node = table.nodes[t.producer];
    const forwardEnd = t.consumers.length ? t.consumers[t.consumers.length - 1] : t.producer;
    const ckpt = node.metadata[CHECKPOINT_KEY];
    const backStart = ckpt === undefined ? undefined : regions.start.get(ckpt);
    const consumersInside = t.consumers.every((c) => table.nodes[c].metadata[CHECKPOINT_KEY] === ckpt);
    if (backStart !== undefined && consumersInside) {
      out.set(name, { forwardEnd, backStart, how: 'recomputed' });
    } else if (node.metadata[OFFLOAD_KEY] !== undefined) {
      let first = until;
      for (const c of t.consumers) {
        const s = schedule.backwardStep.get(c);
        if (s !== undefined) first = Math.min(first, s);
      }
      out.set(name, { forwardEnd, backStart: Math.max(forwardEnd + 1, first - 1), how: 'fetched' });
    }
  }
  return out;
}
