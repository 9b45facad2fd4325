// Candidate rewrites for a model under its settings, each with the formula figure of what it
// removes at the current peak and what it costs. Evaluation (re-analysis) happens in suggest.ts.
import { effectiveBits } from '../memory/tensor-table';
import { lossChain } from '../onnx-rewrite/chunked-loss';
import { kvTensors } from '../onnx-rewrite/quantize-kv';
import { DEFAULT_INT4_GROUP, quantizedBytes, weightUses } from '../onnx-rewrite/quantize-weights';
import type { GraphRewrite, KvFormat, WeightFormat } from '../onnx-rewrite/rewrite-types';
import { dtypeBits } from '../graph';
import type { AnalysisSettings } from '../settings';
import { attentionSites } from './attention-sites';
import type { AnalysisContext } from './context';
import { NOTES, type TechniqueNote } from './notes';
import { bufferSavingAt, mixedPrecisionSavingAt, regionSavingAt } from './predict';
import { childNodes, layerLoops, scopeSegments, type LayerLoop } from './scopes';
import type { SuggestionDetail, SuggestionKind } from './types';

export interface Candidate {
  id: string;
  kind: SuggestionKind;
  scope: string;
  action: string;
  rewrites: GraphRewrite[];
  settings: Partial<AnalysisSettings> | null;
  /** Node positions the rewrite is about (source mapping, random-op checks). */
  nodes: number[];
  /** Positions that run again in backward. */
  recomputed: number[];
  recomputeFlops: number;
  transferBytes: number;
  note: TechniqueNote;
  predictedSaving: number;
  formula: string;
  /** false: the memory model has no form for this rewrite; the formula figure stands alone. */
  verifiable: boolean;
  detail: SuggestionDetail;
}

export const RANDOM_OPS = new Set(['Dropout', 'RandomNormal', 'RandomNormalLike', 'RandomUniform', 'RandomUniformLike', 'Bernoulli', 'Multinomial']);

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export function candidates(ctx: AnalysisContext): Candidate[] {
  const out: Candidate[] = [];
  const training = ctx.settings.mode === 'train';
  const loops = layerLoops(ctx.origins);
  if (training) {
    for (const loop of loops) out.push(...loopCandidates(ctx, loop));
  }
  out.push(...attentionCandidates(ctx));
  if (training) out.push(...lossCandidates(ctx));
  if (ctx.settings.dtype === 'fp32') out.push(precisionCandidate(ctx));
  if (!training) {
    out.push(...weightCandidates(ctx, loops));
    out.push(...kvCandidates(ctx));
  } else {
    const lora = loraCandidate(ctx);
    if (lora) out.push(lora);
  }
  return out;
}

/** Saved bytes produced in a region (what checkpointing or offloading can move). */
function savedIn(ctx: AnalysisContext, nodes: number[]): number {
  const inside = new Set(nodes);
  let bytes = 0;
  for (const name of ctx.buffers.savedTensors) {
    const rec = ctx.table.tensors.get(name);
    if (rec && inside.has(rec.producer)) bytes += rec.bytes;
  }
  for (const b of ctx.buffers.buffers) if (b.kind === 'saved' && inside.has(b.owner)) bytes += b.bytes;
  return bytes;
}

function loopCandidates(ctx: AnalysisContext, loop: LayerLoop): Candidate[] {
  const out: Candidate[] = [];
  const peak = ctx.live.peakStep;
  const names = (nodes: number[]) => nodes.map((p) => ctx.table.nodes[p].name);
  const regions = loop.layers.map((l) => l.nodes);
  const all = regions.flat();
  const flops = sum(all.map((p) => ctx.flops[p]));
  out.push({
    id: `checkpoint:${loop.prefix}`,
    kind: 'checkpoint-loop',
    scope: loop.prefix,
    action: `Checkpoint every layer of ${loop.prefix} (${loop.layers.length} layers)`,
    rewrites: [{ kind: 'checkpoint', regions: loop.layers.map((l) => ({ id: `ckpt:${l.scope}`, scope: l.scope, nodes: names(l.nodes) })) }],
    settings: null,
    nodes: all,
    recomputed: all,
    recomputeFlops: flops,
    transferBytes: 0,
    note: NOTES.checkpoint,
    predictedSaving: regionSavingAt(ctx, regions, 'checkpoint', peak),
    formula: 'saved activations produced inside each layer and live at the peak step (only each layer\'s input stays saved; the rest is recomputed at the layer\'s backward)',
    verifiable: true,
    detail: { kind: 'checkpoint', loop: loop.prefix, child: null, layers: loop.layers.length },
  });
  for (const child of loop.children) {
    const per = loop.layers.map((l) => childNodes(loop, l, child, ctx.origins)).filter((n) => n.length > 0);
    const nodes = per.flat();
    out.push({
      id: `checkpoint:${loop.prefix}.*.${child}`,
      kind: 'checkpoint-block',
      scope: `${loop.prefix}.*.${child}`,
      action: `Checkpoint ${child} in every layer of ${loop.prefix}`,
      rewrites: [{ kind: 'checkpoint', regions: per.map((n, i) => ({ id: `ckpt:${loop.layers[i].scope}.${child}`, scope: `${loop.layers[i].scope}.${child}`, nodes: names(n) })) }],
      settings: null,
      nodes,
      recomputed: nodes,
      recomputeFlops: sum(nodes.map((p) => ctx.flops[p])),
      transferBytes: 0,
      note: NOTES.checkpoint,
      predictedSaving: regionSavingAt(ctx, per, 'checkpoint', peak),
      formula: `saved activations produced inside ${child} (each layer) and live at the peak step`,
      verifiable: true,
      detail: { kind: 'checkpoint', loop: loop.prefix, child, layers: loop.layers.length },
    });
  }
  const moved = savedIn(ctx, all);
  out.push({
    id: `offload:${loop.prefix}`,
    kind: 'offload-activations',
    scope: loop.prefix,
    action: `Offload the saved activations of ${loop.prefix} to CPU memory`,
    rewrites: [{ kind: 'offload', regions: loop.layers.map((l) => ({ id: `offload:${l.scope}`, scope: l.scope, nodes: names(l.nodes) })) }],
    settings: null,
    nodes: all,
    recomputed: [],
    recomputeFlops: 0,
    transferBytes: 2 * moved,
    note: NOTES.offload,
    predictedSaving: regionSavingAt(ctx, regions, 'offload', peak),
    formula: 'saved activations of each layer live at the peak step while they wait in host memory between forward and backward',
    verifiable: true,
    detail: { kind: 'offload', loop: loop.prefix, child: null, layers: loop.layers.length },
  });
  return out;
}

function attentionCandidates(ctx: AnalysisContext): Candidate[] {
  const sites = attentionSites(ctx);
  if (sites.length === 0) return [];
  const pos = (n: string) => ctx.position.get(n)!;
  const chainNodes = sites.flatMap((s) => s.nodes.map(pos));
  // Intermediates (scores, scaled, masked, probabilities) and what their nodes save.
  const inner = new Set(sites.flatMap((s) => s.nodes.slice(0, -1).map((n) => ctx.table.nodes[pos(n)].outputs[0])));
  const owners = new Set(sites.flatMap((s) => s.nodes.slice(0, -1).map(pos)));
  const saving = bufferSavingAt(ctx, ctx.live.peakStep, (b) => (b.kind === 'tensor' && inner.has(b.label)) || (b.kind === 'saved' && owners.has(b.owner)) ? 1 : 0);
  const training = ctx.settings.mode === 'train';
  // Flash-style backward recomputes the scores (the first MatMul) instead of reading them.
  const recompute = training ? sum(sites.map((s) => ctx.flops[pos(s.nodes[0])])) : 0;
  return [{
    id: 'fused-attention',
    kind: 'fused-attention',
    scope: sites[0].scope,
    action: `Use fused attention (${sites.length} explicit softmax(QKᵀ)V site${sites.length > 1 ? 's' : ''})`,
    rewrites: [{ kind: 'fused-attention', sites }],
    settings: null,
    nodes: chainNodes,
    recomputed: [],
    recomputeFlops: recompute,
    transferBytes: 0,
    note: NOTES.fusedAttention,
    predictedSaving: saving,
    formula: 'B·H·T·S score tensors (scores, scaled, masked, probabilities) live at the peak step',
    verifiable: true,
    detail: { kind: 'attention', sites: sites.length },
  }];
}

function lossCandidates(ctx: AnalysisContext): Candidate[] {
  const out: Candidate[] = [];
  for (const [i, node] of ctx.table.nodes.entries()) {
    if (node.opType !== 'MatMul' && node.opType !== 'Gemm') continue;
    const chain = lossChain(ctx.model, node.name);
    if (!chain) continue;
    const logits = ctx.table.tensors.get(node.outputs[0]);
    const shape = ctx.shapes.get(node.outputs[0])?.shape;
    const v = shape?.[shape.length - 1];
    if (!logits || typeof v !== 'number' || !shape) continue;
    const rows = logits.elements / v;
    const chunks = [16, 8, 4, 2].find((k) => rows % k === 0 && rows / k >= 1);
    if (!chunks) continue;
    // Only when the logits outweigh every other activation: that is when chunking pays.
    let largest = 0;
    for (const rec of ctx.table.tensors.values()) if (rec.category === 'activations' && rec.name !== logits.name) largest = Math.max(largest, rec.bytes);
    if (logits.bytes < largest) continue;
    const chainPos = [i, ...chain.between.map((n) => ctx.position.get(n.name)!), ctx.position.get(chain.loss.name)!];
    const tensors = new Set([node.outputs[0], ...chain.between.map((n) => n.outputs[0]), ...chain.loss.outputs.slice(1)]);
    const owners = new Set(chainPos);
    const keep = 1 - 1 / chunks;
    const saving = bufferSavingAt(ctx, ctx.live.peakStep, (b) => (b.kind === 'tensor' && tensors.has(b.label)) || (b.kind === 'saved' && owners.has(b.owner)) ? keep : 0);
    out.push({
      id: `chunked-loss:${node.name}`,
      kind: 'chunked-loss',
      scope: ctx.origins[i].scope || node.name,
      action: `Compute the loss in ${chunks} chunks (logits ${shape.join('×')})`,
      rewrites: [{ kind: 'chunked-loss', chunks, head: node.name, loss: chain.loss.name }],
      settings: null,
      nodes: chainPos,
      recomputed: chainPos,
      recomputeFlops: sum(chainPos.map((p) => ctx.flops[p])),
      transferBytes: 0,
      note: NOTES.chunkedLoss,
      predictedSaving: saving,
      formula: `logits-sized tensors (B·T·V) live at the peak step × (1 - 1/${chunks})`,
      verifiable: true,
      detail: { kind: 'loss', chunks },
    });
  }
  return out;
}

function precisionCandidate(ctx: AnalysisContext): Candidate {
  const training = ctx.settings.mode === 'train';
  return {
    id: 'mixed-precision',
    kind: 'mixed-precision',
    scope: 'model',
    action: training ? 'Train in bf16 mixed precision' : 'Run in bf16',
    rewrites: [],
    settings: { dtype: 'bf16' },
    nodes: [],
    recomputed: [],
    recomputeFlops: 0,
    transferBytes: 0,
    note: NOTES.mixedPrecision,
    predictedSaving: mixedPrecisionSavingAt(ctx, ctx.live.peakStep),
    formula: training ? 'fp32 tensors, gradients and saved activations at the peak step halved; optimizer state + 4 B/parameter fp32 master weights' : 'fp32 tensors at the peak step halved',
    verifiable: true,
    detail: { kind: 'precision', dtype: 'bf16' },
  };
}

interface WeightGroup { scope: string; weights: string[]; nodes: number[] }

/** Quantizable weights grouped by module: a child of a layer loop across all layers, else the top module. */
function weightGroups(ctx: AnalysisContext, loops: LayerLoop[]): WeightGroup[] {
  const groups = new Map<string, WeightGroup>();
  for (const [name, init] of ctx.model.graph.initializers) {
    if (init.dims.length !== 2 || init.dims[0] * init.dims[1] < 4096) continue;
    const uses = weightUses(ctx.model, name);
    if (!uses) continue;
    const pos = ctx.position.get(uses[0].node.name);
    if (pos === undefined) continue;
    const segs = scopeSegments(ctx.origins[pos].scope);
    let key = segs.slice(0, 1).join('.') || uses[0].node.name;
    for (const loop of loops) {
      const p = scopeSegments(loop.prefix);
      if (p.every((s, i) => segs[i] === s) && /^\d+$/.test(segs[p.length] ?? '')) {
        key = `${loop.prefix}.*${segs[p.length + 1] ? `.${segs[p.length + 1]}` : ''}`;
        break;
      }
    }
    const g = groups.get(key) ?? { scope: key, weights: [], nodes: [] };
    g.weights.push(name);
    g.nodes.push(...uses.map((u) => ctx.position.get(u.node.name)!));
    groups.set(key, g);
  }
  const list = [...groups.values()];
  if (list.length > 1) list.unshift({ scope: 'model', weights: list.flatMap((g) => g.weights), nodes: list.flatMap((g) => g.nodes) });
  return list;
}

const FORMATS: { format: WeightFormat; group: number | null; note: TechniqueNote; label: string }[] = [
  { format: 'int8', group: null, note: NOTES.int8, label: 'int8 (per output channel)' },
  { format: 'int4', group: DEFAULT_INT4_GROUP, note: NOTES.int4, label: `int4 (groups of ${DEFAULT_INT4_GROUP})` },
  { format: 'fp8', group: null, note: NOTES.fp8, label: 'fp8 e4m3' },
];

function weightCandidates(ctx: AnalysisContext, loops: LayerLoop[]): Candidate[] {
  const out: Candidate[] = [];
  for (const g of weightGroups(ctx, loops)) {
    const set = new Set(g.weights);
    for (const f of FORMATS) {
      const saving = bufferSavingAt(ctx, ctx.live.peakStep, (b) => {
        if (b.kind !== 'tensor' || !set.has(b.label)) return 0;
        const init = ctx.model.graph.initializers.get(b.label)!;
        const uses = weightUses(ctx.model, b.label)!;
        const [k, n] = uses[0].layout === 'KN' ? init.dims : [init.dims[1], init.dims[0]];
        return Math.max(0, 1 - quantizedBytes(k, n, f.format, f.group) / b.bytes);
      });
      out.push({
        id: `quantize:${g.scope}:${f.format}`,
        kind: 'quantize-weights',
        scope: g.scope,
        action: `Quantize the weights of ${g.scope === 'model' ? 'the whole model' : g.scope} to ${f.label}`,
        rewrites: [{ kind: 'quantize-weights', scope: g.scope, format: f.format, groupSize: f.group, weights: g.weights }],
        settings: null,
        nodes: g.nodes,
        recomputed: [],
        recomputeFlops: 0,
        transferBytes: 0,
        note: f.note,
        predictedSaving: saving,
        formula: `K·N·bits/8 + 4 B per scale (${f.group ? `one per ${f.group} inputs per output` : f.format === 'fp8' ? 'one per tensor' : 'one per output channel'}) instead of the float weights`,
        verifiable: true,
        detail: { kind: 'quantize', format: f.format, groupSize: f.group, modules: [g.scope] },
      });
    }
  }
  return out;
}

const KV_FORMATS: { format: KvFormat; bits: number; note: TechniqueNote }[] = [
  { format: 'int8', bits: 8, note: NOTES.kvInt8 },
  { format: 'fp8', bits: 8, note: NOTES.kvFp8 },
  { format: 'int4', bits: 4, note: NOTES.kvInt4 },
];

function kvCandidates(ctx: AnalysisContext): Candidate[] {
  const { past, present } = kvTensors(ctx.model);
  if (past.length === 0 && present.length === 0) return [];
  const kvNodes = ctx.table.nodes.flatMap((n, i) => (n.outputs.some((o) => present.includes(o)) ? [i] : []));
  const out: Candidate[] = KV_FORMATS.map((f) => ({
    id: `kv:${f.format}`,
    kind: 'quantize-kv' as const,
    scope: 'model',
    action: `Store the KV cache as ${f.format}`,
    rewrites: [{ kind: 'quantize-kv' as const, format: f.format }],
    settings: null,
    nodes: kvNodes,
    recomputed: [],
    recomputeFlops: 0,
    transferBytes: 0,
    note: f.note,
    predictedSaving: bufferSavingAt(ctx, ctx.live.peakStep, (b) => {
      if (b.category !== 'kvCache') return 0;
      const t = ctx.shapes.get(b.label);
      const bits = t ? effectiveBits(t.dtype, ctx.settings) : dtypeBits('float32');
      return Math.max(0, 1 - f.bits / bits);
    }),
    formula: `KV = 2·L·H_kv·d·T·B at ${f.bits} bits instead of the compute dtype`,
    verifiable: true,
    detail: { kind: 'kv', format: f.format },
  }));
  // Offloading keeps the layer in use and the next one (prefetch) on the device.
  const layers = Math.max(1, Math.max(past.length, present.length) / 2);
  const kvAtPeak = bufferSavingAt(ctx, ctx.live.peakStep, (b) => (b.category === 'kvCache' ? 1 : 0));
  const kvTotal = ctx.profile.totals.kvCacheBytes;
  out.push({
    id: 'kv:offload',
    kind: 'offload-kv',
    scope: 'model',
    action: 'Offload the KV cache to CPU memory, one layer on the device at a time',
    rewrites: [{ kind: 'offload-kv' as const }],
    settings: null,
    nodes: kvNodes,
    recomputed: [],
    recomputeFlops: 0,
    transferBytes: kvTotal,
    note: NOTES.offloadKv,
    predictedSaving: layers > 2 ? kvAtPeak * (1 - 2 / layers) : 0,
    formula: `KV bytes at the peak × (1 - 2/L): the layer being computed and the next one (prefetched) stay on the device, L = ${layers}`,
    verifiable: true,
    detail: { kind: 'kv', format: 'offload' },
  });
  return out;
}

/** LoRA (rank 8) beside every matrix weight when the trained parameters' state dominates the peak. */
function loraCandidate(ctx: AnalysisContext): Candidate | null {
  const b = ctx.profile.breakdown;
  const state = b.gradients + b.optimizerState;
  if (state < 0.3 * ctx.profile.peak.bytes) return null;
  const weights: string[] = [];
  const nodes: number[] = [];
  for (const [name, init] of ctx.model.graph.initializers) {
    if (init.dims.length !== 2 || init.dims[0] * init.dims[1] < 4096) continue;
    const uses = weightUses(ctx.model, name);
    if (!uses || !ctx.buffers.trainable.has(name)) continue;
    weights.push(name);
    nodes.push(...uses.map((u) => ctx.position.get(u.node.name)!));
  }
  if (weights.length === 0) return null;
  const rank = 8;
  const stateOf = new Set(ctx.buffers.trainable);
  const saving = bufferSavingAt(ctx, ctx.live.peakStep, (buf) => {
    if (buf.kind === 'optimizer') return stateOf.has(buf.label.split(':')[0]) ? 1 : 0;
    if (buf.kind === 'gradient' && buf.category === 'gradients') return stateOf.has(buf.label.replace(/^gradient of /, '')) ? 1 : 0;
    return 0;
  });
  let adapters = 0;
  for (const w of weights) {
    const d = ctx.model.graph.initializers.get(w)!.dims;
    adapters += rank * (d[0] + d[1]);
  }
  const bits = effectiveBits('float32', ctx.settings);
  const perParam = bits / 8 + bits / 8 + 8; // adapter weight, gradient, Adam m and v (fp32)
  return {
    id: 'lora',
    kind: 'lora',
    scope: 'model',
    action: `Freeze the backbone and train rank-${rank} adapters (${weights.length} weights)`,
    rewrites: [{ kind: 'lora', rank, weights }],
    settings: null,
    nodes,
    recomputed: [],
    recomputeFlops: 0,
    transferBytes: 0,
    note: NOTES.lora,
    predictedSaving: Math.max(0, saving - adapters * perParam),
    formula: `gradients and optimizer state of the frozen parameters at the peak step, minus r·(K+N) adapter parameters × ${perParam} B`,
    verifiable: true,
    detail: { kind: 'lora', rank, weights: weights.length },
  };
}

