// Inference candidates that change storage formats: weights quantized per module group, and the
// KV cache quantized or offloaded to host memory.
import { dtypeBits } from '../graph';
import { effectiveBits } from '../memory/tensor-table';
import { kvTensors } from '../onnx-rewrite/quantize-kv';
import { DEFAULT_INT4_GROUP, quantizedBytes, weightUses } from '../onnx-rewrite/quantize-weights';
import type { KvFormat, WeightFormat } from '../onnx-rewrite/rewrite-types';
import { candidate, positionOf, type Candidate } from './candidates';
import type { AnalysisContext } from './context';
import { NOTES, type TechniqueNote } from './notes';
import { bufferSavingAt } from './predict';
import { scopeSegments, type LayerLoop } from './scopes';

interface WeightGroup {
  scope: string;
  /** Quantizable weights with the share of their bytes that quantization removes, per format. */
  weights: { name: string; k: number; n: number; bytes: number }[];
  nodes: number[];
}

/** The group a weight belongs to: a child of a layer loop across all layers (`blocks.*.mlp`), else the top module. */
function groupKey(segs: string[], loops: LayerLoop[], fallback: string): string {
  for (const loop of loops) {
    const p = scopeSegments(loop.prefix);
    if (p.every((s, i) => segs[i] === s) && /^\d+$/.test(segs[p.length] ?? '')) {
      return `${loop.prefix}.*${segs[p.length + 1] ? `.${segs[p.length + 1]}` : ''}`;
    }
  }
  return segs.slice(0, 1).join('.') || fallback;
}

/** Quantizable weights grouped by module, with a `model` group of all of them when there are several. */
function weightGroups(ctx: AnalysisContext, loops: LayerLoop[]): WeightGroup[] {
  const groups = new Map<string, WeightGroup>();
  for (const [name, init] of ctx.model.graph.initializers) {
    if (init.dims.length !== 2 || init.dims[0] * init.dims[1] < 4096) continue;
    const uses = weightUses(ctx.model, name);
    if (!uses) continue;
    const pos = ctx.position.get(uses[0].node.name);
    if (pos === undefined) continue;
    const key = groupKey(scopeSegments(ctx.origins[pos].scope), loops, uses[0].node.name);
    const g = groups.get(key) ?? { scope: key, weights: [], nodes: [] };
    const [k, n] = uses[0].layout === 'KN' ? init.dims : [init.dims[1], init.dims[0]];
    g.weights.push({ name, k, n, bytes: ctx.table.tensors.get(name)?.bytes ?? 0 });
    g.nodes.push(...uses.map((u) => positionOf(ctx, u.node.name)));
    groups.set(key, g);
  }
  const list = [...groups.values()];
  if (list.length > 1) list.unshift({ scope: 'model', weights: list.flatMap((g) => g.weights), nodes: list.flatMap((g) => g.nodes) });
  return list;
}

const FORMATS: { format: WeightFormat; group: number | null; note: TechniqueNote }[] = [
  { format: 'int8', group: null, note: NOTES.int8 },
  { format: 'int4', group: DEFAULT_INT4_GROUP, note: NOTES.int4 },
  { format: 'fp8', group: null, note: NOTES.fp8 },
];

export function weightCandidates(ctx: AnalysisContext, loops: LayerLoop[]): Candidate[] {
  const out: Candidate[] = [];
  for (const g of weightGroups(ctx, loops)) {
    for (const f of FORMATS) {
      const removed = new Map(g.weights.map((w) => [w.name, w.bytes > 0 ? Math.max(0, 1 - quantizedBytes(w.k, w.n, f.format, f.group) / w.bytes) : 0]));
      out.push(candidate({ kind: 'quantize-weights', detail: { kind: 'quantize', format: f.format, groupSize: f.group, modules: [g.scope] } }, {
        scope: g.scope,
        rewrites: [{ kind: 'quantize-weights', scope: g.scope, format: f.format, groupSize: f.group, weights: g.weights.map((w) => w.name) }],
        nodes: g.nodes,
        note: f.note,
        predictedSaving: bufferSavingAt(ctx, ctx.live.peakStep, (b) => (b.kind === 'tensor' ? removed.get(b.tensor) ?? 0 : 0)),
        formula: `K·N·bits/8 + 4 B per scale (${f.group ? `one per ${f.group} inputs per output` : f.format === 'fp8' ? 'one per tensor' : 'one per output channel'}) instead of the float weights`,
      }));
    }
  }
  return out;
}

const KV_FORMATS: { format: KvFormat; bits: number; note: TechniqueNote }[] = [
  { format: 'int8', bits: 8, note: NOTES.kvInt8 },
  { format: 'fp8', bits: 8, note: NOTES.kvFp8 },
  { format: 'int4', bits: 4, note: NOTES.kvInt4 },
];

export function kvCandidates(ctx: AnalysisContext): Candidate[] {
  const { past, present } = kvTensors(ctx.model);
  if (past.length === 0 && present.length === 0) return [];
  const kvNodes = ctx.table.nodes.flatMap((n, i) => (n.outputs.some((o) => present.includes(o)) ? [i] : []));
  const out: Candidate[] = KV_FORMATS.map((f) => candidate({ kind: 'quantize-kv', detail: { kind: 'kv', format: f.format } }, {
    scope: 'model',
    rewrites: [{ kind: 'quantize-kv', format: f.format }],
    nodes: kvNodes,
    note: f.note,
    predictedSaving: bufferSavingAt(ctx, ctx.live.peakStep, (b) => {
      if (b.category !== 'kvCache') return 0;
      const t = b.kind === 'tensor' ? ctx.shapes.get(b.tensor) : undefined;
      const bits = t ? effectiveBits(t.dtype, ctx.settings) : dtypeBits('float32');
      return Math.max(0, 1 - f.bits / bits);
    }),
    formula: `KV = 2·L·H_kv·d·T·B at ${f.bits} bits instead of the compute dtype`,
  }));
  // Offloading keeps the layer in use and the next one (prefetch) on the device.
  const layers = Math.max(1, Math.max(past.length, present.length) / 2);
  const kvAtPeak = bufferSavingAt(ctx, ctx.live.peakStep, (b) => (b.category === 'kvCache' ? 1 : 0));
  const kvTotal = ctx.profile.totals.kvCacheBytes;
  out.push(candidate({ kind: 'offload-kv', detail: { kind: 'kv', format: 'offload' } }, {
    scope: 'model',
    rewrites: [{ kind: 'offload-kv' }],
    nodes: kvNodes,
    transferBytes: kvTotal,
    note: NOTES.offloadKv,
    predictedSaving: layers > 2 ? kvAtPeak * (1 - 2 / layers) : 0,
    formula: `KV bytes at the peak × (1 - 2/L): the layer being computed and the next one (prefetched) stay on the device, L = ${layers}`,
  }));
  return out;
}
