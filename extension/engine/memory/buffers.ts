// From tensors and settings to buffers with live intervals over the step sequence.
// Inference: one step per node. Training: forward steps, backward steps in reverse, one optimizer step.
import type { GraphNode } from '../graph';
import type { Category, Phase } from '../profile';
import type { AnalysisSettings } from '../settings';
import type { InferredTensor } from '../shapes/types';
import { CHECKPOINT_KEY, OFFLOAD_KEY } from '../metadata-keys';
import { MAY_INPLACE_OPS, VIEW_OPS } from './aliasing';
import { offloadKvWindows } from './kv-offload';
import { optimizerCost } from './optimizer';
import { savedForBackward, type SavedDecision } from './saved-rules';
import { effectiveBits, type TensorTable, type TensorRecord } from './tensor-table';

export interface Step {
  /** Forward node position (execution order); -1 for the optimizer step. */
  node: number;
  phase: Phase;
}

/**
 * `saved`: held on the device from forward to backward. `restored`: a saved tensor brought back
 * for backward, recomputed (checkpointing) or fetched from host memory (offload).
 */
export type BufferKind = 'tensor' | 'saved' | 'restored' | 'gradient' | 'workspace' | 'optimizer';

export interface Buffer {
  bytes: number;
  category: Category;
  /** First and last step (inclusive) the buffer is live. */
  start: number;
  end: number;
  /** Forward node position the bytes are attributed to (producer, or first user of a weight); -1 none. */
  owner: number;
  kind: BufferKind;
  /** Tensor name for 'tensor' buffers, a label otherwise. */
  label: string;
  /** Live for the whole step sequence (weights, inputs, optimizer state). */
  persistent: boolean;
}

export interface BufferModel {
  steps: Step[];
  buffers: Buffer[];
  /** Saved-for-backward decision per forward position (training only). */
  saved: Map<number, SavedDecision>;
  /** Tensor names kept for backward (training). */
  savedTensors: Set<string>;
  trainable: Set<string>;
  params: { count: number; trainableCount: number };
  warnings: string[];
}

export interface BufferOptions {
  /** Initializer names that are frozen (no gradient, no optimizer state). */
  frozen: Set<string>;
  /** Initializer names that are parameters, when the producer lists them; else every float weight. */
  parameters?: Set<string> | null;
  /**
   * Whether two tensors have the same shape as ONNX Runtime sees it when it plans memory: from
   * the graph alone, before input dims are bound. Its planner reuses an input in place only then.
   */
  sameStaticShape?: (a: string, b: string) => boolean;
  /** The KV cache lives in host memory and is streamed in one layer at a time (inference). */
  kvOffload?: boolean;
}

const BN_STAT_INPUTS = new Set([3, 4]);

/** Whether a tensor counts as a model parameter (trainable or frozen). */
function isParameter(t: TensorRecord, parameters: Set<string> | null | undefined): boolean {
  return t.isWeight && t.isFloat && (parameters ? parameters.has(t.name) : true);
}

/** Float parameters that are not BatchNorm running statistics and not frozen. */
export function trainableParams(table: TensorTable, frozen: Set<string>, parameters?: Set<string> | null): Set<string> {
  const stats = new Set<string>();
  for (const n of table.nodes) {
    if (n.opType !== 'BatchNormalization') continue;
    n.inputs.forEach((x, i) => BN_STAT_INPUTS.has(i) && x && stats.add(x));
  }
  const out = new Set<string>();
  for (const t of table.tensors.values()) {
    if (isParameter(t, parameters) && !stats.has(t.name) && !frozen.has(t.name) && t.consumers.length > 0) out.add(t.name);
  }
  return out;
}

export function buildBuffers(
  table: TensorTable,
  shapes: Map<string, InferredTensor>,
  settings: AnalysisSettings,
  options: BufferOptions,
): BufferModel {
  const n = table.nodes.length;
  const training = settings.mode === 'train';
  const trainable = trainableParams(table, options.frozen, options.parameters);
  const warnings: string[] = [];
  let count = 0, trainableCount = 0;
  for (const t of table.tensors.values()) {
    if (!isParameter(t, options.parameters)) continue;
    count += t.elements;
    if (trainable.has(t.name)) trainableCount += t.elements;
  }

  // Steps.
  const steps: Step[] = table.nodes.map((_, i) => ({ node: i, phase: 'forward' }));
  const requiresGrad = training ? gradientFlow(table, trainable) : new Set<string>();
  const backwardStep = new Map<number, number>(); // forward position -> step index
  if (training) {
    for (let pos = n - 1; pos >= 0; pos--) {
      const node = table.nodes[pos];
      if (node.inputs.some((x) => requiresGrad.has(x))) {
        backwardStep.set(pos, steps.length);
        steps.push({ node: pos, phase: 'backward' });
      }
    }
    steps.push({ node: -1, phase: 'optimizer' });
  }
  const last = steps.length - 1;

  const regionStart = checkpointRegionStarts(table, backwardStep);
  // Saved-for-backward: which tensors must outlive the forward, until which backward step.
  const saved = new Map<number, SavedDecision>();
  const savedUntil = new Map<string, number>();
  const savedTensors = new Set<string>();
  const buffers: Buffer[] = [];
  if (training) {
    for (const [pos, step] of backwardStep) {
      const node = table.nodes[pos];
      const decision = savedForBackward(node, {
        tensor: (name) => shapes.get(name),
        requiresGrad: (i) => requiresGrad.has(node.inputs[i] ?? ''),
      });
      saved.set(pos, decision);
      for (const item of decision.saved) {
        if (item.kind === 'tensor') {
          const rec = table.tensors.get(item.name);
          if (!rec) continue;
          savedUntil.set(item.name, Math.max(savedUntil.get(item.name) ?? 0, step));
          if (!rec.isInitializer && rec.producer >= 0) savedTensors.add(item.name);
        } else {
          const bytes = Math.ceil((item.elements * effectiveBits(item.dtype, settings)) / 8);
          const label = `${item.label} (${decision.rule})`;
          const ckpt = node.metadata[CHECKPOINT_KEY];
          const back = ckpt !== undefined ? regionStart.get(ckpt) : undefined;
          if (back !== undefined) {
            buffers.push({ bytes, category: 'activations', start: pos, end: pos, owner: pos, kind: 'workspace', label, persistent: false });
            buffers.push({ bytes, category: 'activations', start: back, end: step, owner: pos, kind: 'restored', label: `${label}, recomputed`, persistent: false });
          } else {
            buffers.push({ bytes, category: 'activations', start: pos, end: step, owner: pos, kind: 'saved', label, persistent: false });
          }
        }
      }
      if (decision.backwardWorkspace > 0) {
        const bits = effectiveBits(shapes.get(node.inputs[0])?.dtype ?? 'float32', settings);
        buffers.push({ bytes: Math.ceil((decision.backwardWorkspace * bits) / 8), category: 'activations', start: step, end: step, owner: pos, kind: 'workspace', label: `backward workspace of ${node.opType}`, persistent: false });
      }
    }
  }

  // Tensor buffers, with views and in-place outputs folded into their input's buffer.
  const root = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (root.has(r)) r = root.get(r)!;
    return r;
  };
  const end = new Map<string, number>();
  const lastUse = (t: TensorRecord): number => {
    if (t.producer < 0 || t.isGraphOutput) return last;
    const forward = t.consumers.length ? t.consumers[t.consumers.length - 1] : t.producer;
    return Math.max(forward, savedUntil.get(t.name) ?? -1);
  };
  // Checkpointed and offloaded regions: a saved tensor produced inside one is off the device
  // between its last forward use and its backward use (recomputed, or fetched back from the host).
  const split = training ? regionSplits(table, backwardStep, savedUntil, regionStart) : new Map<string, RegionSplit>();
  for (const name of split.keys()) savedTensors.delete(name);
  for (const t of table.tensors.values()) {
    const sp = split.get(t.name);
    end.set(t.name, sp ? sp.forwardEnd : lastUse(t));
  }
  table.nodes.forEach((node, pos) => {
    const input = node.inputs[0];
    const output = node.outputs[0];
    if (!input || !output) return;
    const inRec = table.tensors.get(input), outRec = table.tensors.get(output);
    if (!inRec || !outRec || outRec.producer !== pos) return;
    const r = find(input);
    const rRec = table.tensors.get(r)!;
    if (rRec.producer < 0) return; // never alias user inputs or weights
    const view = VIEW_OPS.has(node.opType);
    const inplace = !training && MAY_INPLACE_OPS.has(node.opType) && end.get(r) === pos && rRec.bytes === outRec.bytes
      && !outRec.isGraphOutput && (options.sameStaticShape?.(input, output) ?? true);
    if (!view && !inplace) return;
    root.set(output, r);
    end.set(r, Math.max(end.get(r)!, end.get(output)!));
  });
  const tensorBuffer = new Map<string, Buffer>();
  for (const t of table.tensors.values()) {
    if (root.has(t.name)) continue;
    const persistent = t.producer < 0;
    const owner = persistent ? (t.consumers[0] ?? -1) : t.producer;
    const buffer: Buffer = {
      bytes: t.bytes,
      category: t.category,
      start: persistent ? 0 : t.producer,
      end: end.get(t.name)!,
      owner,
      kind: 'tensor',
      label: t.name,
      persistent,
    };
    buffers.push(buffer);
    tensorBuffer.set(t.name, buffer);
    const sp = split.get(t.name);
    if (sp) {
      buffers.push({ ...buffer, start: sp.backStart, end: Math.max(sp.backStart, savedUntil.get(t.name) ?? sp.backStart), kind: 'restored', label: `${t.name} (${sp.how} for backward)` });
    }
  }
  // Members of an alias group that are graph outputs or KV give the group their category.
  for (const [member] of root) {
    const m = table.tensors.get(member)!;
    if (m.category === 'outputs' || m.category === 'kvCache') {
      const b = tensorBuffer.get(find(member));
      if (b && b.category === 'activations') b.category = m.category;
    }
  }

  if (options.kvOffload && !training) offloadKvWindows(table, (name) => tensorBuffer.get(find(name)));
  if (training) {
    addGradients(table, settings, trainable, requiresGrad, backwardStep, last, buffers, find);
    const opt = optimizerCost(settings.optimizer, settings.dtype);
    let largest = 0;
    for (const name of trainable) {
      const rec = table.tensors.get(name)!;
      largest = Math.max(largest, rec.elements);
      const bytes = Math.ceil(rec.elements * opt.stateBytesPerParam);
      if (bytes > 0) buffers.push({ bytes, category: 'optimizerState', start: 0, end: last, owner: rec.consumers[0] ?? -1, kind: 'optimizer', label: `${name}: ${opt.formula}`, persistent: true });
    }
    if (settings.optimizer !== 'none' && settings.optimizer !== 'sgd' && largest > 0) {
      buffers.push({ bytes: largest * 4, category: 'other', start: last, end: last, owner: -1, kind: 'workspace', label: 'optimizer step temporary (one fp32 tensor the size of the largest parameter)', persistent: false });
    }
  }
  return { steps, buffers, saved, savedTensors, trainable, params: { count, trainableCount }, warnings };
}

/** Checkpoint region id -> its first backward step, where its forward is recomputed. */
function checkpointRegionStarts(table: TensorTable, backwardStep: Map<number, number>): Map<string, number> {
  const starts = new Map<string, number>();
  table.nodes.forEach((node, pos) => {
    const id = node.metadata[CHECKPOINT_KEY];
    const step = backwardStep.get(pos);
    if (id === undefined || step === undefined) return;
    starts.set(id, Math.min(starts.get(id) ?? Infinity, step));
  });
  return starts;
}

interface RegionSplit {
  forwardEnd: number;
  backStart: number;
  how: 'recomputed' | 'fetched from host';
}

/**
 * For saved tensors produced inside a checkpoint region: live in forward until their last forward
 * use, then again from the region's first backward step (recomputation runs there). Offloaded ones
 * come back one step before their first backward use (prefetch).
 */
function regionSplits(
  table: TensorTable,
  backwardStep: Map<number, number>,
  savedUntil: Map<string, number>,
  regionStart: Map<string, number>,
): Map<string, RegionSplit> {
  const out = new Map<string, RegionSplit>();
  for (const [name, until] of savedUntil) {
    const t = table.tensors.get(name);
    if (!t || t.producer < 0 || t.isGraphOutput) continue;
    const node = table.nodes[t.producer];
    const forwardEnd = t.consumers.length ? t.consumers[t.consumers.length - 1] : t.producer;
    const ckpt = node.metadata[CHECKPOINT_KEY];
    const consumersInside = ckpt !== undefined && t.consumers.every((c) => table.nodes[c].metadata[CHECKPOINT_KEY] === ckpt);
    if (ckpt !== undefined && consumersInside && regionStart.has(ckpt)) {
      out.set(name, { forwardEnd, backStart: regionStart.get(ckpt)!, how: 'recomputed' });
    } else if (node.metadata[OFFLOAD_KEY] !== undefined) {
      let first = until;
      for (const c of t.consumers) {
        const s = backwardStep.get(c);
        if (s !== undefined) first = Math.min(first, s);
      }
      out.set(name, { forwardEnd, backStart: Math.max(forwardEnd + 1, first - 1), how: 'fetched from host' });
    }
  }
  return out;
}

/** Tensors that need a gradient: trainable weights and float tensors computed from them. */
function gradientFlow(table: TensorTable, trainable: Set<string>): Set<string> {
  const rg = new Set<string>(trainable);
  for (const node of table.nodes) {
    if (!node.inputs.some((x) => rg.has(x))) continue;
    for (const o of node.outputs) {
      const rec = o ? table.tensors.get(o) : undefined;
      if (rec?.isFloat) rg.add(o);
    }
  }
  return rg;
}

function addGradients(
  table: TensorTable,
  settings: AnalysisSettings,
  trainable: Set<string>,
  requiresGrad: Set<string>,
  backwardStep: Map<number, number>,
  last: number,
  buffers: Buffer[],
  find: (x: string) => string,
): void {
  // One gradient buffer per alias root: the gradient of a view is a view of the gradient.
  const groups = new Map<string, TensorRecord[]>();
  for (const name of requiresGrad) {
    const r = find(name);
    const list = groups.get(r) ?? [];
    list.push(table.tensors.get(name)!);
    groups.set(r, list);
  }
  let firstBackward = last;
  for (const s of backwardStep.values()) firstBackward = Math.min(firstBackward, s);
  for (const [r, members] of groups) {
    const rootRec = table.tensors.get(r)!;
    if (!requiresGrad.has(r) && rootRec.producer >= 0) continue;
    // Born at the backward step of the last forward consumer (the first in reverse) of any member.
    let start = Infinity;
    for (const m of members) {
      for (const c of m.consumers) {
        const s = backwardStep.get(c);
        if (s !== undefined) start = Math.min(start, s);
      }
      if (m.isGraphOutput) start = Math.min(start, firstBackward);
    }
    if (!Number.isFinite(start)) continue;
    const isParam = trainable.has(r);
    const end = isParam ? last : backwardStep.get(rootRec.producer) ?? start;
    const bits = isParam ? gradBits(rootRec, settings) : 0;
    const bytes = isParam ? Math.ceil((rootRec.elements * bits) / 8) : rootRec.bytes;
    buffers.push({
      bytes,
      category: isParam ? 'gradients' : 'activations',
      start,
      end,
      owner: isParam ? (rootRec.consumers[0] ?? -1) : rootRec.producer,
      kind: 'gradient',
      label: `gradient of ${r}`,
      persistent: false,
    });
  }
}

/** Parameter gradients are kept in the compute precision (bf16/fp16 under mixed precision). */
function gradBits(_rec: TensorRecord, settings: AnalysisSettings): number {
  return settings.dtype === 'fp32' ? 32 : 16;
}

export type { GraphNode };
