// Buffers of the tensors nodes produce. Views and in-place outputs share their input's buffer
// (one alias group, one buffer at the root); a group lives until its last member's last use,
// which for a saved tensor is its last backward reader. Saved tensors of checkpointed or
// offloaded regions get a second, restored buffer for backward.
import type { Category } from '../profile';
import type { AnalysisSettings } from '../settings';
import { MAY_INPLACE_OPS, VIEW_OPS } from './aliasing';
import type { Buffer, BufferOptions } from './buffer-types';
import type { RegionSplit } from './regions';
import type { Schedule } from './schedule';
import type { TensorRecord, TensorTable } from './tensor-table';
import type { TorchViews } from './torch-views';

/** Alias groups: every tensor's root (itself when it has its own buffer). */
export interface Aliases {
  rootOf(tensor: string): string;
  /** Tensors that share another tensor's buffer, in execution order, with their root. */
  members: Map<string, string>;
}

export interface ActivationInputs {
  schedule: Schedule;
  /** Saved graph tensor -> last backward step reading it. */
  savedUntil: Map<string, number>;
  splits: Map<string, RegionSplit>;
  settings: AnalysisSettings;
  options: BufferOptions;
  /** Training: PyTorch's views (torch-views.ts), which share their base's buffer. */
  torchViews?: TorchViews;
}

/** Last step a tensor's own buffer must hold it (before alias groups merge). */
function lastUse(t: TensorRecord, inputs: ActivationInputs): number {
  const split = inputs.splits.get(t.name);
  if (split) return split.forwardEnd;
  if (t.producer === null) return inputs.schedule.last;
  // A graph output read by the loss that follows is dropped once the loss is computed (its
  // gradient replaces it); else the caller holds it to the end.
  if (t.isGraphOutput && t.name !== inputs.schedule.lossOutput) return inputs.schedule.last;
  const forward = t.consumers.length ? t.consumers[t.consumers.length - 1] : t.isGraphOutput ? inputs.schedule.lossForward : t.producer;
  return Math.max(forward, inputs.savedUntil.get(t.name) ?? -1);
}

/** Groups views and in-place outputs with their input's buffer, extending the group's end. */
export function aliasGroups(table: TensorTable, inputs: ActivationInputs): { aliases: Aliases; end: Map<string, number> } {
  const training = inputs.settings.mode === 'train';
  const members = new Map<string, string>();
  const rootOf = (x: string): string => members.get(x) ?? x;
  const end = new Map<string, number>();
  for (const t of table.tensors.values()) end.set(t.name, lastUse(t, inputs));
  table.nodes.forEach((node, pos) => {
    const input = node.inputs[0];
    const output = node.outputs[0];
    if (!input || !output) return;
    const inRec = table.tensors.get(input), outRec = table.tensors.get(output);
    if (!inRec || !outRec || outRec.producer !== pos) return;
    const r = rootOf(input);
    const rRec = table.tensors.get(r);
    // Training follows PyTorch, where a view of a weight or input (W.t() in a Linear) is free too;
    // ONNX Runtime never aliases user inputs or weights.
    const torchView = training && (inputs.torchViews?.has(output) ?? false);
    if (!rRec || (rRec.producer === null && !torchView)) return;
    const rootEnd = end.get(r) ?? pos;
    const inplace = !training && MAY_INPLACE_OPS.has(node.opType) && rootEnd === pos && rRec.bytes === outRec.bytes
      && !outRec.isGraphOutput && (inputs.options.sameStaticShape?.(input, output) ?? true);
    if (training ? !torchView : !VIEW_OPS.has(node.opType) && !inplace) return;
    // torch.split/chunk: every piece is a view of the input.
    for (const o of torchView && node.opType === 'Split' ? node.outputs.filter(Boolean) : [output]) {
      members.set(o, r);
      end.set(r, Math.max(end.get(r) ?? pos, end.get(o) ?? pos));
    }
  });
  return { aliases: { rootOf, members }, end };
}

/** Each group takes the category of its first member that is a graph output or KV cache. */
function memberCategories(table: TensorTable, aliases: Aliases): Map<string, Category> {
  const out = new Map<string, Category>();
  for (const [member, root] of aliases.members) {
    const c = table.tensors.get(member)?.category;
    if ((c === 'outputs' || c === 'kvCache') && !out.has(root)) out.set(root, c);
  }
  return out;
}

export function activationPass(table: TensorTable, inputs: ActivationInputs): { buffers: Buffer[]; aliases: Aliases } {
  const { aliases, end } = aliasGroups(table, inputs);
  const fromMembers = memberCategories(table, aliases);
  const buffers: Buffer[] = [];
  for (const t of table.tensors.values()) {
    if (t.producer === null || aliases.members.has(t.name)) continue;
    const owner = { kind: 'node' as const, pos: t.producer };
    const category = t.category === 'activations' ? fromMembers.get(t.name) ?? t.category : t.category;
    buffers.push({ bytes: t.bytes, category, start: t.producer, end: end.get(t.name) ?? t.producer, owner, persistent: false, kind: 'tensor', tensor: t.name });
    const split = inputs.splits.get(t.name);
    if (!split) continue;
    const until = inputs.savedUntil.get(t.name) ?? split.backStart;
    buffers.push({
      bytes: t.bytes, category: t.category, start: split.backStart, end: Math.max(split.backStart, until), owner, persistent: false,
      kind: 'restored', of: { kind: 'tensor', tensor: t.name }, how: split.how,
    });
  }
  return { buffers, aliases };
}
