// ONNX Runtime's memory pattern (onnxruntime/core/framework/mem_pattern_planner.h), on by default
// in a session (enableMemPattern): the session state traces the allocation plan once with the
// run's shapes (session_state.cc GeneratePatternGroupCache), places every planned buffer that is
// not a graph output at an offset in one block, and each run then takes that block from the arena
// in one request (execution_frame.cc) and carves the buffers out of it.
import type { OrtAllocationPlan } from './allocation-plan';

/**
 * kAllocAlignment (core/framework/allocator.h; 256 in ORT 1.30, 64 in older releases): each traced
 * size is rounded up to it (CalcMemSizeForArrayWithAlignment). Measured: a [6, 197, 197] fp32
 * buffer takes 931,584 B of the block (test/integration/engine/ort-optimised-bodies.test.ts).
 */
export const MEM_PATTERN_ALIGNMENT = 256;

interface Block { id: number; offset: number; size: number }

/**
 * MemPatternPlanner::TraceAllocation: the best-fitting gap between live blocks (least waste),
 * else after the last block by offset; the pattern's size is the highest end reached.
 */
class PatternPlanner {
  private blocks: Block[] = [];
  peak = 0;

  trace(id: number, bytes: number): void {
    if (bytes === 0) return;
    const size = Math.ceil(bytes / MEM_PATTERN_ALIGNMENT) * MEM_PATTERN_ALIGNMENT;
    let bestAt = this.blocks.length;
    let bestOffset = this.blocks.length > 0 ? this.blocks[this.blocks.length - 1].offset + this.blocks[this.blocks.length - 1].size : 0;
    let waste = Infinity;
    let current = 0;
    this.blocks.forEach((b, i) => {
      if (b.offset >= current) {
        const gap = b.offset - current;
        if (gap >= size && gap - size < waste) {
          bestAt = i;
          waste = gap - size;
          bestOffset = current;
        }
      }
      current = b.offset + b.size;
    });
    this.peak = Math.max(this.peak, bestOffset + size);
    this.blocks.splice(bestAt, 0, { id, offset: bestOffset, size });
  }

  free(id: number): void {
    const i = this.blocks.findIndex((b) => b.id === id);
    if (i >= 0) this.blocks.splice(i, 1);
  }
}

/**
 * Bytes of the block one run takes: the plan's own buffers (kind 'allocate'; graph outputs are
 * allocated on their own) traced in execution order, freed where the plan releases them.
 * `skip` names buffers allocated elsewhere (a body's outputs, written by its parent node).
 */
export function memPatternBytes(plan: OrtAllocationPlan, skip: ReadonlySet<number> = new Set()): number {
  const planner = new PatternPlanner();
  for (const step of plan.steps) {
    for (const a of step.allocate) {
      if (plan.buffers[a.buffer].kind === 'allocate' && !skip.has(a.buffer)) planner.trace(a.buffer, a.bytes);
    }
    for (const b of step.release) planner.free(b);
  }
  return planner.peak;
}
