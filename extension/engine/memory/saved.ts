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
import { constantScalars, torchOpDecisions } from './torch-ops';
import { storageRoot, type TorchViews } from './torch-views';

export interface SavedPlan {
  decisions: Map<number, SavedDecision>;
  /** Graph tensor -> the last backward step that reads it (weights and inputs included). */
  until: Map<string, number>;
  /** Saved graph tensors that nodes produce (not weights, not graph inputs). */
  produced: Set<string>;
  /** Buffers of saved extras and backward workspaces, in backward order. */
  buffers: Buffer[];
  /** Op types with a backward but no saved-for-backward rule, with how many nodes: reported, not guessed. */
  unknownOps: Map<string, number>;
}

export function savedPass(
  table: TensorTable,
  shapes: Map<string, InferredTensor>,
  settings: AnalysisSettings,
  schedule: Schedule,
  regions: CheckpointRegions,
  torchMajor: number | null = null,
  views: TorchViews = new Map(),
): SavedPlan {
  const plan: SavedPlan = { decisions: new Map(), until: new Map(), produced: new Set(), buffers: [], unknownOps: new Map() };
  const recognised = torchOpDecisions(table);
  const scalars = constantScalars(table);
  for (const [pos, step] of schedule.backwardStep) {
    const node = table.nodes[pos];
    const decision = recognised.get(pos) ?? savedForBackward(node, {
      tensor: (name) => shapes.get(name),
      requiresGrad: (i) => schedule.requiresGrad.has(node.inputs[i] ?? ''),
      scalar: (name) => scalars.get(name),
      device: settings.device ?? 'cuda',
      torchMajor,
    });
    plan.decisions.set(pos, decision);
    if (decision.unknown) plan.unknownOps.set(node.opType, (plan.unknownOps.get(node.opType) ?? 0) + 1);
    for (const item of decision.saved) {
      if (item.kind === 'tensor') {
        // A saved view keeps its base's storage: the base is what stays live (and is counted once).
        const name = storageRoot(views, item.name);
        const rec = table.tensors.get(name);
        if (!rec) continue;
        plan.until.set(name, Math.max(plan.until.get(name) ?? 0, step));
        if (!rec.isInitializer && rec.producer !== null) plan.produced.add(name);
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
