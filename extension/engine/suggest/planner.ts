// fitBudget: the cheapest set of rewrites whose peak fits a memory budget.
//
// Choices: a few global ones (precision, fused attention, chunked loss; in inference weight and
// KV-cache formats), each combination analysed in full, and per layer of the layer loops in
// training: checkpoint it or not. For a fixed global combination the live bytes of any set of
// checkpointed layers are exactly the baseline plus the sum of each layer's own change (a
// buffer's interval depends only on the region of its producer), and each change is <= 0, so a
// branch and bound over layers with two prunings is exact:
//   - even checkpointing every remaining layer stays over budget -> no solution below;
//   - cost already >= the best found -> no cheaper solution below.
// Cost is ordered as (accuracy tier, recompute share of forward FLOPs). The chosen plan is
// applied to a copy of the graph and analysed again with analyzeModel.
import type { Model } from '../graph';
import { analyzeModel } from '../analyze';
import { isMemlensError, MemlensError } from '../errors';
import { buildBuffers } from '../memory/buffers';
import { liveBytes } from '../memory/live';
import { CHECKPOINT_KEY } from '../metadata-keys';
import { applyRewrites } from '../onnx-rewrite/apply';
import type { GraphRewrite } from '../onnx-rewrite/rewrite-types';
import type { AnalysisSettings } from '../settings';
import { formatBytes } from '../units';
import { candidates, type Candidate } from './candidates';
import { bufferOptions } from '../analyze';
import { analysisContext, type AnalysisContext } from './context';
import { layerLoops } from './scopes';
import type { SuggestionDetail } from './types';

/** What a written file can express: TypeScript markers, ONNX graph edits, or anything (printed plan). */
export type PlanTarget = 'typescript' | 'onnx' | 'any';

export interface FitOptions {
  source: string;
  target?: PlanTarget;
  /** Search nodes before the branch and bound stops with its best plan and a lower bound. */
  nodeLimit?: number;
}

export interface PlanCost {
  /** 0 exact; 1 mixed precision; 2 8-bit formats; 3 4-bit formats (summed over choices). */
  accuracyTier: number;
  recomputeShare: number;
}

export interface PlanPoint extends PlanCost {
  peakBytes: number;
  globals: string[];
  checkpointed: string[];
}

export interface Plan {
  budgetBytes: number;
  baselinePeakBytes: number;
  /** Whether the chosen plan's re-analysed peak is within the budget. */
  fits: boolean;
  /** The cheapest plan that fits, or (when none does) the plan with the lowest peak. */
  chosen: PlanPoint & {
    /** Peak from the exact per-layer sum; `verifiedPeakBytes` from analyzeModel on the rewritten graph. */
    predictedPeakBytes: number;
    verifiedPeakBytes: number;
    rewrites: GraphRewrite[];
    settings: Partial<AnalysisSettings>;
    /** Candidate ids of the global choices (see candidates.ts) and the checkpointed layer scopes. */
    candidateIds: string[];
    /** The global choices as plain data (what source edits need). */
    globalChoices: { id: string; action: string; detail: SuggestionDetail; settings: Partial<AnalysisSettings> | null }[];
  };
  /** Every layer scope the plan could checkpoint (all layers of the layer loops). */
  layerScopes: string[];
  /** Pareto frontier of peak against cost over the plans examined. */
  frontier: PlanPoint[];
  method: 'exact' | 'near-optimal';
  /** For near-optimal results: a lower bound on the best cost's recompute share. */
  lowerBound: number | null;
  searchNodes: number;
  message: string;
}

interface GlobalOption {
  choices: Candidate[];
  ids: string[];
  labels: string[];
  rewrites: GraphRewrite[];
  settings: Partial<AnalysisSettings>;
  tier: number;
  recomputeFlops: number;
}

const TIER: Record<string, number> = {
  'mixed-precision': 1, 'quantize-weights:int8': 2, 'quantize-weights:fp8': 2, 'quantize-weights:int4': 3,
  'quantize-kv:int8': 2, 'quantize-kv:fp8': 2, 'quantize-kv:int4': 3,
};

function tierOf(c: Candidate): number {
  if (c.kind === 'quantize-weights' && c.detail.kind === 'quantize') return TIER[`quantize-weights:${c.detail.format}`];
  if (c.kind === 'quantize-kv' && c.detail.kind === 'kv') return TIER[`quantize-kv:${c.detail.format}`] ?? 0;
  return TIER[c.kind] ?? 0;
}

/** Which candidate kinds a target file can express. */
function expressible(c: Candidate, target: PlanTarget): boolean {
  if (target === 'any') return c.verifiable;
  if (c.kind === 'mixed-precision' || c.kind === 'lora' || !c.verifiable) return false;
  if (target === 'typescript') {
    if (c.kind === 'chunked-loss') return false;
    if (c.kind === 'quantize-kv' && c.detail.kind === 'kv' && c.detail.format === 'int4') return false;
  }
  return true;
}

/** Global option groups: at most one choice per group, 'none' always allowed. */
function globalOptions(ctx: AnalysisContext, target: PlanTarget): GlobalOption[] {
  const list = candidates(ctx).filter((c) => expressible(c, target));
  const groups: Candidate[][] = [];
  const group = (pred: (c: Candidate) => boolean) => {
    const g = list.filter(pred);
    if (g.length) groups.push(g);
  };
  group((c) => c.kind === 'mixed-precision');
  group((c) => c.kind === 'fused-attention');
  group((c) => c.kind === 'chunked-loss');
  group((c) => c.kind === 'quantize-weights' && c.scope === 'model');
  // With a single weight group there is no `model` group: use that one.
  if (!list.some((c) => c.kind === 'quantize-weights' && c.scope === 'model')) group((c) => c.kind === 'quantize-weights');
  group((c) => c.kind === 'quantize-kv');
  let combos: GlobalOption[] = [{ choices: [], ids: [], labels: [], rewrites: [], settings: {}, tier: 0, recomputeFlops: 0 }];
  for (const g of groups) {
    const next: GlobalOption[] = [];
    for (const base of combos) {
      next.push(base);
      for (const c of g) {
        next.push({
          choices: [...base.choices, c],
          ids: [...base.ids, c.id],
          labels: [...base.labels, c.action],
          rewrites: [...base.rewrites, ...c.rewrites],
          settings: { ...base.settings, ...(c.settings ?? {}) },
          tier: base.tier + tierOf(c),
          recomputeFlops: base.recomputeFlops + c.recomputeFlops,
        });
      }
    }
    combos = next;
  }
  return combos;
}

interface LayerItem {
  scope: string;
  nodes: string[];
  share: number;
  /** Exact change of live bytes per step when this layer alone is checkpointed (<= 0). */
  delta: Float64Array;
}

interface Evaluated {
  option: GlobalOption;
  ctx: AnalysisContext;
  base: Float64Array;
  layers: LayerItem[];
  share: number;
}

const cmp = (a: PlanCost, b: PlanCost) => a.accuracyTier - b.accuracyTier || a.recomputeShare - b.recomputeShare;
const EPS = 1e-12;

export function fitBudget(model: Model, settings: AnalysisSettings, budgetBytes: number, options: FitOptions): Plan {
  if (!(budgetBytes > 0)) throw new MemlensError(`budget must be a positive size, got ${budgetBytes}`);
  const target = options.target ?? 'any';
  const nodeLimit = options.nodeLimit ?? 200_000;
  const baseCtx = analysisContext(model, settings, options.source);
  const baseFlops = baseCtx.forwardFlops;
  const evaluated: Evaluated[] = [];
  for (const option of globalOptions(baseCtx, target)) {
    let ctx: AnalysisContext;
    try {
      const m = option.rewrites.length ? applyRewrites(model, option.rewrites, { checkOpset: target === 'onnx' }) : model;
      ctx = option.rewrites.length || Object.keys(option.settings).length
        ? analysisContext(m, { ...settings, ...option.settings }, options.source)
        : baseCtx;
    } catch (e) {
      if (isMemlensError(e)) continue;
      throw e;
    }
    const base = ctx.live.total;
    const layers = settings.mode === 'train' ? layerItems(ctx, baseFlops) : [];
    evaluated.push({ option, ctx, base, layers, share: baseFlops > 0 ? option.recomputeFlops / baseFlops : 0 });
  }

  let best: { ev: Evaluated; chosen: number[]; cost: PlanCost; peak: number } | null = null;
  let lowest: { ev: Evaluated; chosen: number[]; cost: PlanCost; peak: number } | null = null;
  let nodes = 0;
  let exhausted = true;
  let lowerBound = Infinity;
  const points: PlanPoint[] = [];
  const point = (ev: Evaluated, chosen: number[], peak: number, cost: PlanCost): PlanPoint => ({
    ...cost, peakBytes: peak, globals: ev.option.labels, checkpointed: chosen.map((i) => ev.layers[i].scope),
  });
  for (const ev of evaluated) {
    const all = ev.layers.map((_, i) => i);
    const allPeak = maxOf(sumDeltas(ev.base, ev.layers, all));
    const allCost = { accuracyTier: ev.option.tier, recomputeShare: ev.share + sum(ev.layers.map((l) => l.share)) };
    const nonePeak = maxOf(ev.base);
    const noneCost = { accuracyTier: ev.option.tier, recomputeShare: ev.share };
    points.push(point(ev, [], nonePeak, noneCost));
    if (ev.layers.length) points.push(point(ev, all, allPeak, allCost));
    if (!lowest || allPeak < lowest.peak - EPS || (Math.abs(allPeak - lowest.peak) <= EPS && cmp(allCost, lowest.cost) < 0)) {
      lowest = { ev, chosen: all, cost: allCost, peak: allPeak };
    }
    // Frontier points of this combination: cheapest layer sets at budgets between its extremes.
    if (ev.layers.length) {
      for (let k = 1; k < 8; k++) {
        const level = nonePeak - ((nonePeak - allPeak) * k) / 8;
        const r = search(ev, level, nodeLimit);
        nodes += r.nodes;
        if (r.chosen) points.push(point(ev, r.chosen, r.peak, { accuracyTier: ev.option.tier, recomputeShare: ev.share + r.share }));
      }
    }
    if (allPeak > budgetBytes) continue;
    if (best && ev.option.tier > best.cost.accuracyTier) continue;
    const r = search(ev, budgetBytes, nodeLimit);
    nodes += r.nodes;
    if (!r.complete) {
      exhausted = false;
      lowerBound = Math.min(lowerBound, ev.share + r.lowerBound);
    }
    if (!r.chosen) continue;
    const cost = { accuracyTier: ev.option.tier, recomputeShare: ev.share + r.share };
    points.push(point(ev, r.chosen, r.peak, cost));
    if (!best || cmp(cost, best.cost) < 0) best = { ev, chosen: r.chosen, cost, peak: r.peak };
  }
  if (!lowest) throw new MemlensError('fit: no rewrite of this model could be analysed');
  if (!best) {
    // No plan fits: among plans reaching the lowest peak, the cheapest one.
    for (const ev of evaluated) {
      const r = search(ev, lowest.peak, nodeLimit);
      nodes += r.nodes;
      if (!r.chosen) continue;
      const cost = { accuracyTier: ev.option.tier, recomputeShare: ev.share + r.share };
      if (cmp(cost, lowest.cost) < 0) lowest = { ev, chosen: r.chosen, cost, peak: r.peak };
    }
  }
  const pick = best ?? lowest;
  const ev = pick.ev;
  const layerRewrite: GraphRewrite[] = pick.chosen.length
    ? [{ kind: 'checkpoint', regions: pick.chosen.map((i) => ({ id: `ckpt:${ev.layers[i].scope}`, scope: ev.layers[i].scope, nodes: ev.layers[i].nodes })) }]
    : [];
  const rewrites = [...ev.option.rewrites, ...layerRewrite];
  const finalSettings = { ...settings, ...ev.option.settings };
  const verified = analyzeModel(applyRewrites(model, rewrites), finalSettings, { source: options.source, entry: null }).peak.bytes;
  const fits = verified <= budgetBytes;
  const frontier = pareto(points);
  const baselinePeak = baseCtx.profile.peak.bytes;
  const message = fits
    ? `fits: peak ${formatBytes(baselinePeak)} → ${formatBytes(verified)} within ${formatBytes(budgetBytes)}`
    : `the budget ${formatBytes(budgetBytes)} cannot be met with these rewrites: the lowest reachable peak is ${formatBytes(verified)}`;
  return {
    budgetBytes,
    baselinePeakBytes: baselinePeak,
    fits,
    chosen: {
      ...point(ev, pick.chosen, pick.peak, pick.cost),
      predictedPeakBytes: pick.peak,
      verifiedPeakBytes: verified,
      rewrites,
      settings: ev.option.settings,
      candidateIds: [...ev.option.ids, ...pick.chosen.map((i) => `checkpoint-layer:${ev.layers[i].scope}`)],
      globalChoices: ev.option.choices.map((c) => ({ id: c.id, action: c.action, detail: c.detail, settings: c.settings })),
    },
    layerScopes: ev.layers.map((l) => l.scope),
    frontier,
    method: exhausted ? 'exact' : 'near-optimal',
    lowerBound: exhausted ? null : lowerBound,
    searchNodes: nodes,
    message,
  };
}

/** One item per layer of every layer loop, with its exact live-bytes change. */
function layerItems(ctx: AnalysisContext, baseFlops: number): LayerItem[] {
  const items: LayerItem[] = [];
  const options = bufferOptions(ctx.model, ctx.shapes);
  for (const loop of layerLoops(ctx.origins)) {
    for (const layer of loop.layers) {
      const inside = new Set(layer.nodes);
      const nodes = ctx.table.nodes.map((n, pos) => (inside.has(pos) ? { ...n, metadata: { ...n.metadata, [CHECKPOINT_KEY]: `ckpt:${layer.scope}` } } : n));
      const bm = buildBuffers({ ...ctx.table, nodes }, ctx.shapes, ctx.settings, options);
      const live = liveBytes(bm.buffers, bm.steps.length);
      const delta = new Float64Array(live.total.length);
      for (let s = 0; s < delta.length; s++) delta[s] = live.total[s] - ctx.live.total[s];
      const flops = layer.nodes.reduce((a, p) => a + ctx.flops[p], 0);
      items.push({ scope: layer.scope, nodes: layer.nodes.map((p) => ctx.table.nodes[p].name), share: baseFlops > 0 ? flops / baseFlops : 0, delta });
    }
  }
  return items;
}

interface SearchResult {
  chosen: number[] | null;
  peak: number;
  share: number;
  nodes: number;
  complete: boolean;
  lowerBound: number;
}

/** Exact branch and bound: the cheapest set of layers to checkpoint so that the peak <= budget. */
export function search(ev: { base: Float64Array; layers: { share: number; delta: Float64Array }[] }, budget: number, nodeLimit: number): SearchResult {
  const n = ev.layers.length;
  const steps = ev.base.length;
  // suffix[i][s]: the change from checkpointing every layer i..n-1.
  const suffix: Float64Array[] = [];
  suffix[n] = new Float64Array(steps);
  for (let i = n - 1; i >= 0; i--) {
    const s = new Float64Array(steps);
    for (let k = 0; k < steps; k++) s[k] = suffix[i + 1][k] + ev.layers[i].delta[k];
    suffix[i] = s;
  }
  const cur = Float64Array.from(ev.base);
  let bestShare = Infinity;
  let bestSet: number[] | null = null;
  let bestPeak = Infinity;
  let nodes = 0;
  let complete = true;
  const chosen: number[] = [];
  const feasibleWithRest = (i: number) => {
    for (let k = 0; k < steps; k++) if (cur[k] + suffix[i][k] > budget + EPS) return false;
    return true;
  };
  const visit = (i: number, share: number): void => {
    if (nodes++ > nodeLimit) {
      complete = false;
      return;
    }
    if (share >= bestShare - EPS) return;
    const peak = maxOf(cur);
    if (peak <= budget + EPS) {
      bestShare = share;
      bestSet = [...chosen];
      bestPeak = peak;
      return;
    }
    if (i === n || !feasibleWithRest(i)) return;
    // Include layer i first (reaches feasibility sooner), then skip it.
    const d = ev.layers[i].delta;
    for (let k = 0; k < steps; k++) cur[k] += d[k];
    chosen.push(i);
    visit(i + 1, share + ev.layers[i].share);
    chosen.pop();
    for (let k = 0; k < steps; k++) cur[k] -= d[k];
    visit(i + 1, share);
  };
  visit(0, 0);
  return {
    chosen: bestSet, peak: bestPeak, share: bestShare, nodes, complete,
    lowerBound: complete ? bestShare : fractionalBound(ev, budget),
  };
}

/**
 * Lower bound on the cheapest share: at the step that needs the most bytes removed, the
 * fractional knapsack over the layers' savings at that step (cheapest bytes first).
 */
function fractionalBound(ev: { base: Float64Array; layers: { share: number; delta: Float64Array }[] }, budget: number): number {
  let worst = 0;
  for (let k = 1; k < ev.base.length; k++) if (ev.base[k] > ev.base[worst]) worst = k;
  let need = ev.base[worst] - budget;
  if (need <= 0) return 0;
  const items = ev.layers.map((l) => ({ save: -l.delta[worst], share: l.share })).filter((x) => x.save > 0)
    .sort((a, b) => a.share / a.save - b.share / b.save);
  let bound = 0;
  for (const it of items) {
    if (need <= 0) break;
    const take = Math.min(1, need / it.save);
    bound += take * it.share;
    need -= take * it.save;
  }
  return bound;
}

function sumDeltas(base: Float64Array, layers: LayerItem[], chosen: number[]): Float64Array {
  const out = Float64Array.from(base);
  for (const i of chosen) for (let k = 0; k < out.length; k++) out[k] += layers[i].delta[k];
  return out;
}

function maxOf(a: Float64Array): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) if (a[k] > m) m = a[k];
  return m;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Points not dominated in (peak, accuracy tier, recompute share), sorted by peak. */
export function pareto(points: PlanPoint[]): PlanPoint[] {
  const dominated = (a: PlanPoint, b: PlanPoint) =>
    b.peakBytes <= a.peakBytes && b.accuracyTier <= a.accuracyTier && b.recomputeShare <= a.recomputeShare + EPS
    && (b.peakBytes < a.peakBytes || b.accuracyTier < a.accuracyTier || b.recomputeShare < a.recomputeShare - EPS);
  const out: PlanPoint[] = [];
  for (const p of points) {
    if (points.some((q) => dominated(p, q))) continue;
    if (out.some((q) => q.peakBytes === p.peakBytes && q.accuracyTier === p.accuracyTier && Math.abs(q.recomputeShare - p.recomputeShare) <= EPS)) continue;
    out.push(p);
  }
  return out.sort((a, b) => a.peakBytes - b.peakBytes);
}
