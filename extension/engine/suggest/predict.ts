// Predicted savings by formula: the bytes a rewrite removes from the buffers live at the current
// peak step. The peak may move elsewhere afterwards; re-analysis of the rewritten graph says where.
import { liveAt, ownerPos, type Buffer } from '../memory/buffer-types';
import { optimizerCost } from '../memory/optimizer';
import type { AnalysisContext } from './context';

/** Backward step of each forward position (training). */
function backwardSteps(ctx: AnalysisContext): Map<number, number> {
  const m = new Map<number, number>();
  ctx.buffers.steps.forEach((s, i) => {
    if (s.phase === 'backward') m.set(s.node, i);
  });
  return m;
}

/**
 * Regions (node position sets) checkpointed or offloaded: a saved tensor produced inside leaves
 * the device after its last forward use and returns at the region's first backward step
 * (checkpoint: recomputed) or one step before its first backward use (offload: prefetched).
 */
export function regionSavingAt(ctx: AnalysisContext, regions: number[][], how: 'checkpoint' | 'offload', step: number): number {
  const back = backwardSteps(ctx);
  let saving = 0;
  for (const region of regions) {
    const inside = new Set(region);
    let start = Infinity;
    for (const pos of region) start = Math.min(start, back.get(pos) ?? Infinity);
    if (!Number.isFinite(start)) continue;
    for (const b of ctx.buffers.buffers) {
      if (!liveAt(b, step)) continue;
      if (b.kind === 'tensor') {
        const rec = ctx.table.tensors.get(b.tensor);
        if (!rec || rec.producer === null || !inside.has(rec.producer) || !ctx.buffers.savedTensors.has(b.tensor) || rec.isGraphOutput) continue;
        const forwardEnd = rec.consumers.length ? rec.consumers[rec.consumers.length - 1] : rec.producer;
        let returns: number;
        if (how === 'checkpoint') {
          if (!rec.consumers.every((c) => inside.has(c))) continue;
          returns = start;
        } else {
          let first = b.end;
          for (const c of rec.consumers) first = Math.min(first, back.get(c) ?? Infinity);
          returns = Math.max(forwardEnd + 1, first - 1);
        }
        if (step > forwardEnd && step < returns) saving += b.bytes;
      } else if (b.kind === 'saved' && how === 'checkpoint') {
        const owner = ownerPos(b);
        if (owner !== null && inside.has(owner) && step > owner && step < start) saving += b.bytes;
      }
    }
  }
  return saving;
}

/** Bytes of buffers live at `step` that `pick` selects, each scaled by the kept fraction it returns. */
export function bufferSavingAt(ctx: AnalysisContext, step: number, pick: (b: Buffer) => number): number {
  let saving = 0;
  for (const b of ctx.buffers.buffers) if (liveAt(b, step)) saving += b.bytes * pick(b);
  return saving;
}

/** Mixed precision: float tensors, gradients and saved activations at 16 bits; optimizer state gains fp32 master weights. */
export function mixedPrecisionSavingAt(ctx: AnalysisContext, step: number): number {
  const opt = ctx.settings.optimizer;
  const before = optimizerCost(opt, ctx.settings.dtype).stateBytesPerParam;
  const after = optimizerCost(opt, 'bf16').stateBytesPerParam;
  return bufferSavingAt(ctx, step, (b) => {
    if (b.kind === 'optimizer') return before > 0 ? 1 - after / before : 0;
    if (b.kind === 'gradient' || b.kind === 'saved') return 0.5;
    if (b.kind === 'tensor') {
      const rec = ctx.table.tensors.get(b.tensor);
      const t = ctx.shapes.get(b.tensor);
      return rec?.isFloat && t?.dtype === 'float32' ? 0.5 : 0;
    }
    return 0;
  });
}
