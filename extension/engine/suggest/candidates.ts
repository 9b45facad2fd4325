// Candidate rewrites for a model under its settings, each with the formula figure of what it
// removes at the current peak and what it costs. Evaluation (re-analysis) happens in suggest.ts.
// Candidates pick buffers by their typed content (tensor, owner node, parameter), never by text.
import { ownerPos, type Buffer } from '../memory/buffer-types';
import { effectiveBits } from '../memory/tensor-table';
import { lossChain } from '../onnx-rewrite/chunked-loss';
import { weightUses } from '../onnx-rewrite/quantize-weights';
import type { GraphRewrite } from '../onnx-rewrite/rewrite-types';
import type { AnalysisSettings } from '../settings';
import { attentionSites } from './attention-sites';
import type { AnalysisContext } from './context';
import type { Caveat } from './types';
import { regionId, suggestionId } from './ids';
import { kvCandidates, weightCandidates } from './inference-candidates';
import { NOTES, type TechniqueNote } from './notes';
import { bufferSavingAt, mixedPrecisionSavingAt, regionSavingAt } from './predict';
import { childNodes, layerLoops, type LayerLoop } from './scopes';
import type { SuggestionSpec } from './types';

interface CandidateFigures {
  id: string;
  scope: string;
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
  /** How `predictedSaving` is computed, for people. */
  formula: string;
}

export interface Candidate extends CandidateFigures {
  /** What the rewrite changes; the id is made from it. */
  spec: SuggestionSpec;
}

type FigureDefaults = 'id' | 'settings' | 'recomputed' | 'recomputeFlops' | 'transferBytes';

/** A candidate with its id made from its spec (figures not given are none: no settings, no recompute, no transfer). */
export function candidate(spec: SuggestionSpec, figures: Omit<CandidateFigures, FigureDefaults> & Partial<CandidateFigures>): Candidate {
  return { settings: null, recomputed: [], recomputeFlops: 0, transferBytes: 0, ...figures, spec, id: suggestionId(spec) };
}

export const RANDOM_OPS = new Set(['Dropout', 'RandomNormal', 'RandomNormalLike', 'RandomUniform', 'RandomUniformLike', 'Bernoulli', 'Multinomial']);

/** Random op types among the recomputed node positions, sorted. */
export function randomOpsAt(nodes: ReadonlyArray<{ opType: string }>, positions: readonly number[]): string[] {
  return [...new Set(positions.map((p) => nodes[p].opType).filter((op) => RANDOM_OPS.has(op)))].sort();
}

/** The caveat of recomputing these random op types: none when there are none. */
export function randomCaveats(ops: readonly string[]): Caveat[] {
  return ops.length ? [{ kind: 'recomputes-random', ops: [...new Set(ops)].sort() }] : [];
}

export const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Node position of a node name of the analysed graph. */
export function positionOf(ctx: AnalysisContext, name: string): number {
  const pos = ctx.position.get(name);
  if (pos === undefined) throw new Error(`suggestions: node '${name}' is not in the analysed graph`);
  return pos;
}

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
    if (rec && rec.producer !== null && inside.has(rec.producer)) bytes += rec.bytes;
  }
  for (const b of ctx.buffers.buffers) if (b.kind === 'saved' && inside.has(ownerPos(b) ?? -1)) bytes += b.bytes;
  return bytes;
}

/** Whether a buffer is one of `tensors`, or saved-for-backward bytes of one of `owners`. */
const tensorOrSavedOf = (b: Buffer, tensors: Set<string>, owners: Set<number>) =>
  (b.kind === 'tensor' && tensors.has(b.tensor)) || (b.kind === 'saved' && owners.has(ownerPos(b) ?? -1));

function loopCandidates(ctx: AnalysisContext, loop: LayerLoop): Candidate[] {
  const peak = ctx.live.peakStep;
  const names = (nodes: number[]) => nodes.map((p) => ctx.table.nodes[p].name);
  const regions = loop.layers.map((l) => l.nodes);
  const all = regions.flat();
  const layers = loop.layers.length;
  const out: Candidate[] = [candidate({ kind: 'checkpoint-loop', detail: { kind: 'checkpoint', loop: loop.prefix, child: null, layers } }, {
    scope: loop.prefix,
    rewrites: [{ kind: 'checkpoint', regions: loop.layers.map((l) => ({ id: regionId('checkpoint', l.scope), scope: l.scope, nodes: names(l.nodes) })) }],
    nodes: all,
    recomputed: all,
    recomputeFlops: sum(all.map((p) => ctx.flops[p])),
    note: NOTES.checkpoint,
    predictedSaving: regionSavingAt(ctx, regions, 'checkpoint', peak),
    formula: 'saved activations produced inside each layer and live at the peak step (only each layer\'s input stays saved; the rest is recomputed at the layer\'s backward)',
  })];
  for (const child of loop.children) {
    const per = loop.layers.map((l) => ({ layer: l, nodes: childNodes(loop, l, child, ctx.origins) })).filter((x) => x.nodes.length > 0);
    const nodes = per.flatMap((x) => x.nodes);
    out.push(candidate({ kind: 'checkpoint-block', detail: { kind: 'checkpoint', loop: loop.prefix, child, layers } }, {
      scope: `${loop.prefix}.*.${child}`,
      rewrites: [{ kind: 'checkpoint', regions: per.map((x) => ({ id: regionId('checkpoint', `${x.layer.scope}.${child}`), scope: `${x.layer.scope}.${child}`, nodes: names(x.nodes) })) }],
      nodes,
      recomputed: nodes,
      recomputeFlops: sum(nodes.map((p) => ctx.flops[p])),
      note: NOTES.checkpoint,
      predictedSaving: regionSavingAt(ctx, per.map((x) => x.nodes), 'checkpoint', peak),
      formula: `saved activations produced inside ${child} (each layer) and live at the peak step`,
    }));
  }
  out.push(candidate({ kind: 'offload-activations', detail: { kind: 'offload', loop: loop.prefix, child: null, layers } }, {
    scope: loop.prefix,
    rewrites: [{ kind: 'offload', regions: loop.layers.map((l) => ({ id: regionId('offload', l.scope), scope: l.scope, nodes: names(l.nodes) })) }],
    nodes: all,
    transferBytes: 2 * savedIn(ctx, all),
    note: NOTES.offload,
    predictedSaving: regionSavingAt(ctx, regions, 'offload', peak),
    formula: 'saved activations of each layer live at the peak step while they wait in host memory between forward and backward',
  }));
  return out;
}

function attentionCandidates(ctx: AnalysisContext): Candidate[] {
  const sites = attentionSites(ctx);
  if (sites.length === 0) return [];
  const pos = (n: string) => positionOf(ctx, n);
  // Intermediates (scores, scaled, masked, probabilities) and what their nodes save.
  const inner = new Set(sites.flatMap((s) => s.nodes.slice(0, -1).map((n) => ctx.table.nodes[pos(n)].outputs[0])));
  const owners = new Set(sites.flatMap((s) => s.nodes.slice(0, -1).map(pos)));
  const training = ctx.settings.mode === 'train';
  return [candidate({ kind: 'fused-attention', detail: { kind: 'attention', sites: sites.length } }, {
    scope: sites[0].scope,
    rewrites: [{ kind: 'fused-attention', sites }],
    nodes: sites.flatMap((s) => s.nodes.map(pos)),
    // Flash-style backward recomputes the scores (the first MatMul) instead of reading them.
    recomputeFlops: training ? sum(sites.map((s) => ctx.flops[pos(s.nodes[0])])) : 0,
    note: NOTES.fusedAttention,
    predictedSaving: bufferSavingAt(ctx, ctx.live.peakStep, (b) => (tensorOrSavedOf(b, inner, owners) ? 1 : 0)),
    formula: 'B·H·T·S score tensors (scores, scaled, masked, probabilities) live at the peak step',
  })];
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
    const chainPos = [i, ...chain.between.map((n) => positionOf(ctx, n.name)), positionOf(ctx, chain.loss.name)];
    const tensors = new Set([node.outputs[0], ...chain.between.map((n) => n.outputs[0]), ...chain.loss.outputs.slice(1)]);
    const owners = new Set(chainPos);
    const keep = 1 - 1 / chunks;
    out.push(candidate({ kind: 'chunked-loss', detail: { kind: 'loss', chunks, head: node.name, logits: [...shape] } }, {
      scope: ctx.origins[i].scope || node.name,
      rewrites: [{ kind: 'chunked-loss', chunks, head: node.name, loss: chain.loss.name }],
      nodes: chainPos,
      recomputed: chainPos,
      recomputeFlops: sum(chainPos.map((p) => ctx.flops[p])),
      note: NOTES.chunkedLoss,
      predictedSaving: bufferSavingAt(ctx, ctx.live.peakStep, (b) => (tensorOrSavedOf(b, tensors, owners) ? keep : 0)),
      formula: `logits-sized tensors (B·T·V) live at the peak step × (1 - 1/${chunks})`,
    }));
  }
  return out;
}

function precisionCandidate(ctx: AnalysisContext): Candidate {
  const training = ctx.settings.mode === 'train';
  return candidate({ kind: 'mixed-precision', detail: { kind: 'precision', dtype: 'bf16', training } }, {
    scope: 'model',
    rewrites: [],
    settings: { dtype: 'bf16' },
    nodes: [],
    note: NOTES.mixedPrecision,
    predictedSaving: mixedPrecisionSavingAt(ctx, ctx.live.peakStep),
    formula: training ? 'fp32 tensors, gradients and saved activations at the peak step halved; optimizer state + 4 B/parameter fp32 master weights' : 'fp32 tensors at the peak step halved',
  });
}

/** LoRA (rank 8) beside every matrix weight when the trained parameters' state dominates the peak. */
function loraCandidate(ctx: AnalysisContext): Candidate | null {
  const b = ctx.profile.breakdown;
  if (b.gradients + b.optimizerState < 0.3 * ctx.profile.peak.bytes) return null;
  const weights: string[] = [];
  const nodes: number[] = [];
  let adapters = 0;
  const rank = 8;
  for (const [name, init] of ctx.model.graph.initializers) {
    if (init.dims.length !== 2 || init.dims[0] * init.dims[1] < 4096) continue;
    const uses = weightUses(ctx.model, name);
    if (!uses || !ctx.buffers.trainable.has(name)) continue;
    weights.push(name);
    nodes.push(...uses.map((u) => positionOf(ctx, u.node.name)));
    adapters += rank * (init.dims[0] + init.dims[1]);
  }
  if (weights.length === 0) return null;
  // The state of every trained parameter goes: the backbone is frozen.
  const trained = ctx.buffers.trainable;
  const saving = bufferSavingAt(ctx, ctx.live.peakStep, (buf) => {
    if (buf.kind === 'optimizer') return trained.has(buf.parameter) ? 1 : 0;
    if (buf.kind === 'gradient' && buf.category === 'gradients') return trained.has(buf.tensor) ? 1 : 0;
    return 0;
  });
  const bits = effectiveBits('float32', ctx.settings);
  const perParam = bits / 8 + bits / 8 + 8; // adapter weight, gradient, Adam m and v (fp32)
  return candidate({ kind: 'lora', detail: { kind: 'lora', rank, weights: weights.length } }, {
    scope: 'model',
    rewrites: [{ kind: 'lora', rank, weights }],
    nodes,
    note: NOTES.lora,
    predictedSaving: Math.max(0, saving - adapters * perParam),
    formula: `gradients and optimizer state of the frozen parameters at the peak step, minus r·(K+N) adapter parameters × ${perParam} B`,
  });
}
