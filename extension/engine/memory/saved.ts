// Saved for backward: which graph tensors must outlive the forward, until which backward step,
// and the buffers of what ops keep beyond graph tensors (statistics, masks) and their backward
// temporaries. Extras of a checkpointed op live one step in forward and return at the region's
// recompute step.
import type { AnalysisSettings } from '../settings';
import type { InferredTensor } from '../shapes/types';
import type { Buffer, SavedExtra } from './buffer-types';
import type { CheckpointRegions } from './regions';
import { savedForBackward, type SavedDecision } from './saved-rules';
import type { Schedule } from './schedule';
import { effectiveBits, type TensorTable } from './tensor-table';

export interface SavedPlan {
  decisions: Map<number, SavedDecision>;
  /** Graph tensor -> the last backward step that reads it (weights and inputs included). */
  until: Map<string, number>;
  /** Saved graph tensors that nodes produce (not weights, not graph inputs). */
  produced: Set<string>;
  /** Buffers of saved extras and backward workspaces, in backward order. */
  buffers: Buffer[];
}

export function savedPass(
  table: TensorTable,
  shapes: Map<string, InferredTensor>,
  settings: AnalysisSettings,
  schedule: Schedule,
  regions: CheckpointRegions,
): SavedPlan {
  const plan: SavedPlan = { decisions: new Map(), until: new Map(), produced: new Set(), buffers: [] };
  for (const [pos, step] of schedule.backwardStep) {
    const node = table.nodes[pos];
    const decision = savedForBackward(node, {
      tensor: (name) => shapes.get(name),
      requiresGrad: (i) => schedule.requiresGrad.has(node.inputs[i] ?? ''),
    });
    plan.decisions.set(pos, decision);
    for (const item of decision.saved) {
      if (item.kind === 'tensor') {
        const rec = table.tensors.get(item.name);
        if (!rec) continue;
        plan.until.set(item.name, Math.max(plan.until.get(item.name) ?? 0, step));
        if (!rec.isInitializer && rec.producer !== null) plan.produced.add(item.name);
      } else {
        const bytes = Math.ceil((item.elements * effectiveBits(item.dtype, settings)) / 8);
        plan.buffers.push(...extraBuffers({ node: pos, item: item.label, rule: decision.rule }, bytes, step, regions));
      }
    }
    if (decision.backwardWorkspace > 0) {
      const bits = effectiveBits(shapes.get(node.inputs[0])?.dtype ?? 'float32', settings);
      const bytes = Math.ceil((decision.backwardWorkspace * bits) / 8);
      plan.buffers.push({ bytes, category: 'activations', start: step, end: step, owner: { kind: 'node', pos }, persistent: false, kind: 'workspace', use: { kind: 'backward', node: pos } });
    }
  }
  return plan;
}

/** A saved extra held until its backward step, or (checkpointed) dropped in forward and recomputed. */
function extraBuffers(extra: SavedExtra, bytes: number, step: number, regions: CheckpointRegions): Buffer[] {
  const pos = extra.node;
  const owner = { kind: 'node' as const, pos };
  const back = regions.recomputeStepOf(pos);
  if (back === null) return [{ bytes, category: 'activations', start: pos, end: step, owner, persistent: false, kind: 'saved', extra }];
  return [
    { bytes, category: 'activations', start: pos, end: pos, owner, persistent: false, kind: 'workspace', use: { kind: 'checkpointed-extra', extra } },
    { bytes, category: 'activations', start: back, end: step, owner, persistent: false, kind: 'restored', of: { kind: 'extra', extra }, how: 'recomputed' },
  ];
}
