// Invariants of the memory model, checked on every analysis (as PyTorch's _memory_viz.py asserts
// that free and allocated bytes add up to the reserved ones). A failure is a bug in a pass, so it
// is a plain Error naming the first buffer or step that breaks the rule.
import { CATEGORIES } from '../profile';
import type { Aliases } from './activations';
import type { Buffer, Step } from './buffer-types';
import { bufferLabel, type LabelContext } from './buffer-label';

function fail(rule: string, b: Buffer | null, ctx: LabelContext): never {
  throw new Error(`memory model invariant broken: ${rule}${b ? ` (buffer '${bufferLabel(b, ctx)}', steps ${b.start}..${b.end}, ${b.bytes} B)` : ''}`);
}

/** Every buffer: whole non-negative bytes, an interval inside the sequence, persistent ones over all of it; one buffer per tensor. */
export function checkBuffers(steps: readonly Step[], buffers: readonly Buffer[], ctx: LabelContext): void {
  const last = steps.length - 1;
  const tensors = new Set<string>();
  for (const b of buffers) {
    if (!Number.isInteger(b.bytes) || b.bytes < 0) fail('bytes are a whole number >= 0', b, ctx);
    if (!(b.start >= 0 && b.start <= b.end && b.end <= last)) fail('0 <= start <= end <= last step', b, ctx);
    if (b.persistent && (b.start !== 0 || b.end !== last)) fail('a persistent buffer is live at every step', b, ctx);
    if (b.kind !== 'tensor') continue;
    if (tensors.has(b.tensor)) fail('one buffer per tensor', b, ctx);
    tensors.add(b.tensor);
  }
}

/**
 * A saved tensor is on the device at the backward steps that read it: its group's buffer, or its
 * restored copy when its region is checkpointed or offloaded. A view of such a tensor (an alias
 * member) has no restored copy of its own in this model, so it is left out of the check.
 */
export function checkSavedLive(
  until: Map<string, number>, splits: ReadonlyMap<string, unknown>, buffers: readonly Buffer[], aliases: Aliases, ctx: LabelContext,
): void {
  const heldUntil = new Map<string, number>();
  const restored = new Map<string, Buffer>();
  for (const b of buffers) {
    if (b.kind === 'tensor') heldUntil.set(b.tensor, b.end);
    if (b.kind === 'restored' && b.of.kind === 'tensor') restored.set(b.of.tensor, b);
  }
  for (const [name, step] of until) {
    if (splits.has(name)) {
      const back = restored.get(name);
      if (back && (back.start > step || back.end < step)) fail(`tensor '${name}' is restored for its backward step ${step}`, back, ctx);
      if (!back && !aliases.members.has(name)) fail(`tensor '${name}' is restored for its backward step ${step}`, null, ctx);
    } else if ((heldUntil.get(aliases.rootOf(name)) ?? -1) < step) {
      fail(`saved tensor '${name}' is live until its backward step ${step}`, null, ctx);
    }
  }
}

/** Live bytes per step equal the sum over categories, and that sum equals the bytes of the buffers live there. */
export function checkLiveTotals(total: Float64Array, byCategory: Record<string, Float64Array>, buffers: readonly Buffer[]): void {
  const diff = new Float64Array(total.length + 1);
  for (const b of buffers) {
    diff[b.start] += b.bytes;
    diff[b.end + 1] -= b.bytes;
  }
  let run = 0;
  for (let s = 0; s < total.length; s++) {
    run += diff[s];
    let sum = 0;
    for (const c of CATEGORIES) sum += byCategory[c][s];
    if (sum !== total[s] || run !== total[s] || total[s] < 0) {
      throw new Error(`memory model invariant broken at step ${s}: live ${total[s]} B, sum over categories ${sum} B, sum over buffers ${run} B`);
    }
  }
}
