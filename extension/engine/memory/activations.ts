// Buffers of the tensors nodes produce. Views and in-place outputs share their input's buffer
// (one alias group, one buffer at the root); a group lives until its last member's last use,
// which for a saved tensor is its last backward reader. Saved tensors of checkpointed or
// offloaded regions get a second, restored buffer for backward.
import type { Category } from '../profile';
import type { AnalysisSettings } from '../settings';
import { INPLACE_KEY } from '../metadata-keys';
import { MAY_INPLACE_OPS, VIEW_OPS } from './aliasing';
import type { Buffer, BufferOptions } from './buffer-types';
import type { RegionSplit } from './regions';
import type { Schedule } from './schedule';
import type { TensorRecord, TensorTable } from './tensor-table';
import type { TorchOpGroup } from './torch-ops';
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
  /** A PyTorch model: its views (torch-views.ts), which share their base's buffer. */
  torchViews?: TorchViews;
  /**
   * Inference of a PyTorch model: the ops the exporter wrote as several nodes (torch-ops.ts). Each
   * runs as one aten kernel (F.silu is silu_out's one loop), so the nodes before its last make no
   * tensor, and its result takes its input's buffer in a layer built with inplace=True
   * (nn.SiLU(inplace=True) in torchvision's Conv2dNormActivation).
   */
  torchOps?: readonly TorchOpGroup[];
  /** Inference of a PyTorch model: a Linear's bias Add -> its MatMul result, one tensor in PyTorch (torch-ops.ts). */
  linearBiasAdds?: Map<number, string>;
  /** Inference of a PyTorch model: tensors the caller of a module holds until the call returns (torch-frames.ts). */
  heldByCallers?: Map<string, number>;
}

/** Forward positions of the nodes inside recognised PyTorch ops, which make no tensor of their own. */
function kernelInternal(inputs: ActivationInputs): Set<number> {
  return new Set((inputs.torchOps ?? []).flatMap((g) => g.members.filter((pos) => pos !== g.tail)));
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
  return Math.max(forward, inputs.savedUntil.get(t.name) ?? -1, inputs.heldByCallers?.get(t.name) ?? -1);
}

/** Groups views and in-place outputs with their input's buffer, extending the group's end. */
export function aliasGroups(table: TensorTable, inputs: ActivationInputs): { aliases: Aliases; end: Map<string, number> } {
  const training = inputs.settings.mode === 'train';
  const members = new Map<string, string>();
  const rootOf = (x: string): string => members.get(x) ?? x;
  const end = new Map<string, number>();
  for (const t of table.tensors.values()) end.set(t.name, lastUse(t, inputs));
  // One kernel reads its input until it ends (the exported pieces may read it last earlier).
  for (const g of inputs.torchOps ?? []) end.set(g.x, Math.max(end.get(g.x) ?? g.tail, g.tail));
  const linearAdds = inputs.linearBiasAdds ?? new Map<number, string>();
  const opInput = new Map([...(inputs.linearBiasAdds ?? []), ...(inputs.torchOps ?? []).map((g) => [g.tail, g.x] as const)]);
  table.nodes.forEach((node, pos) => {
    const input = opInput.get(pos) ?? node.inputs[0];
    const output = node.outputs[0];
    if (!input || !output) return;
    const inRec = table.tensors.get(input), outRec = table.tensors.get(output);
    if (!inRec || !outRec || outRec.producer !== pos) return;
    const r = rootOf(input);
    const rRec = table.tensors.get(r);
    // A PyTorch model follows PyTorch, where a view of a weight or input (W.t() in a Linear) is free too;
    // ONNX Runtime never aliases user inputs or weights.
    const torch = inputs.torchViews !== undefined;
    const torchView = inputs.torchViews?.has(output) ?? false;
    if (!rRec || (rRec.producer === null && !torchView)) return;
    const rootEnd = end.get(r) ?? pos;
    // An element-wise op may write over its input where it dies (aliasing.ts); PyTorch overwrites the input in a
    // layer built with inplace=True (whoever reads it later), and a Linear's bias Add is one tensor.
    const inplace = !training && (torch ? node.metadata[INPLACE_KEY] === 'true' || linearAdds.has(pos) : MAY_INPLACE_OPS.has(node.opType) && rootEnd === pos)
      && rRec.bytes === outRec.bytes
      && !outRec.isGraphOutput && (inputs.options.sameStaticShape?.(input, output) ?? true);
    if (torch ? !torchView && !inplace : !VIEW_OPS.has(node.opType) && !inplace) return;
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
  const internal = kernelInternal(inputs);
  const buffers: Buffer[] = [];
  for (const t of table.tensors.values()) {
    if (t.producer === null || aliases.members.has(t.name) || internal.has(t.producer)) continue;
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
