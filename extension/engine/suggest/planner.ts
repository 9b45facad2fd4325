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
import { candidates, randomCaveats, randomOpsAt, type Candidate } from './candidates';
import { bufferOptions } from '../analyze';
import { analysisContext, type AnalysisContext } from './context';
import { layerChoiceId, regionId } from './ids';
import { LABELS, type SuggestionLabels } from './labels';
import { layerLoops } from './scopes';
import { tierOf } from './tier';
import type { Caveat, SuggestionSpec } from './types';

/** What a written file can express: TypeScript markers, ONNX graph edits, or anything (printed plan). */
export type PlanTarget = 'typescript' | 'onnx' | 'any';

export interface FitOptions {
  source: string;
  target?: PlanTarget;
  /** Search nodes before the branch and bound stops with its best plan and a lower bound. */
  nodeLimit?: number;
  /** The text of the plan's choices (English by default). */
  labels?: SuggestionLabels;
}

export interface PlanCost {
  /** 0 exact; 1 mixed precision; 2 8-bit formats; 3 4-bit formats (summed over choices). */
  accuracyTier: number;
  recomputeShare: number;
}

export interface PlanPoint extends PlanCost {
  peakBytes: number;
  /** Why results may change although the accuracy tier is exact (random ops recomputed). */
  caveats: Caveat[];
  /** The global choices, as text for people (one per choice). */
  globals: string[];
  /** Scopes of the checkpointed layers (`blocks.3`). */
  checkpointed: string[];
}

/** One change of a plan as typed data: a global choice, or checkpointing layers of one layer loop. */
export type PlanStep = (
  | { kind: 'suggestion'; id: string; spec: SuggestionSpec; settings: Partial<AnalysisSettings> | null }
  /** `indices`: the chosen layers of `loop` (all of them when `indices.length === layers`). */
  | { kind: 'checkpoint-layers'; loop: string; indices: number[]; layers: number }
) & {
  /** What the step does, for people (messages about it); never read back. */
  label: string;
};

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
    /** Candidate ids of the global choices (ids.ts) and of the checkpointed layers. */
    candidateIds: string[];
    /** The plan's changes as typed data (what source edits read): global choices first, then layers by loop. */
    steps: PlanStep[];
  };
  /** Every layer scope the plan could checkpoint (all layers of the layer loops). */
  layerScopes: string[];
  /** The layer loops those layers belong to, with their layer counts. */
  loops: { loop: string; layers: number }[];
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

/** Which candidate kinds a target file can express. */
function expressible(c: Candidate, target: PlanTarget): boolean {
  if (target === 'any') return true;
  const s = c.spec;
  if (s.kind === 'mixed-precision' || s.kind === 'lora') return false;
  if (target === 'typescript') {
    if (s.kind === 'chunked-loss') return false;
    if (s.kind === 'quantize-kv' && s.detail.format === 'int4') return false;
  }
  return true;
}

/** Global option groups: at most one choice per group, 'none' always allowed. */
function globalOptions(ctx: AnalysisContext, target: PlanTarget, labels: SuggestionLabels): GlobalOption[] {
  const list = candidates(ctx).filter((c) => expressible(c, target));
  const groups: Candidate[][] = [];
  const group = (pred: (c: Candidate) => boolean) => {
    const g = list.filter(pred);
    if (g.length) groups.push(g);
  };
  group((c) => c.spec.kind === 'mixed-precision');
  group((c) => c.spec.kind === 'fused-attention');
  group((c) => c.spec.kind === 'chunked-loss');
  group((c) => c.spec.kind === 'quantize-weights' && c.scope === 'model');
  // With a single weight group there is no `model` group: use that one.
  if (!list.some((c) => c.spec.kind === 'quantize-weights' && c.scope === 'model')) group((c) => c.spec.kind === 'quantize-weights');
  group((c) => c.spec.kind === 'quantize-kv');
  let combos: GlobalOption[] = [{ choices: [], ids: [], labels: [], rewrites: [], settings: {}, tier: 0, recomputeFlops: 0 }];
  for (const g of groups) {
    const next: GlobalOption[] = [];
    for (const base of combos) {
      next.push(base);
      for (const c of g) {
        next.push({
          choices: [...base.choices, c],
          ids: [...base.ids, c.id],
          labels: [...base.labels, labels.action(c.spec)],
          rewrites: [...base.rewrites, ...c.rewrites],
          settings: { ...base.settings, ...(c.settings ?? {}) },
          tier: base.tier + tierOf(c.spec),
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
  /** The layer loop (`blocks`) and the layer's index in it. */
  loop: string;
  index: number;
  nodes: string[];
  /** Random op types inside the layer: checkpointing it recomputes them. */
  randomOps: string[];
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

interface Choice { ev: Evaluated; chosen: number[]; cost: PlanCost; peak: number }

/** What the search over all global combinations has found so far. */
interface SearchState {
  best: Choice | null;
  lowest: Choice | null;
  points: PlanPoint[];
  nodes: number;
  exhausted: boolean;
  lowerBound: number;
}

export function fitBudget(model: Model, settings: AnalysisSettings, budgetBytes: number, options: FitOptions): Plan {
  if (!(budgetBytes > 0)) throw new MemlensError(`budget must be a positive size, got ${budgetBytes}`);
  const target = options.target ?? 'any';
  const nodeLimit = options.nodeLimit ?? 200_000;
  const baseCtx = analysisContext(model, settings, options.source);
  const labels = options.labels ?? LABELS;
  const evaluated = evaluateOptions(model, settings, baseCtx, target, labels);
  const state: SearchState = { best: null, lowest: null, points: [], nodes: 0, exhausted: true, lowerBound: Infinity };
  for (const ev of evaluated) exploreOption(ev, budgetBytes, nodeLimit, state);
  const lowest = state.lowest;
  if (!lowest) throw new MemlensError('fit: no rewrite of this model could be analysed');
  const pick = state.best ?? cheapestAtLowestPeak(evaluated, lowest, nodeLimit, state);
  return planOf({ model, settings, budgetBytes, source: options.source, labels }, baseCtx, pick, state);
}

/** Each global combination applied and analysed, with its per-layer changes in training. */
function evaluateOptions(model: Model, settings: AnalysisSettings, baseCtx: AnalysisContext, target: PlanTarget, labels: SuggestionLabels): Evaluated[] {
  const baseFlops = baseCtx.forwardFlops;
  const evaluated: Evaluated[] = [];
  for (const option of globalOptions(baseCtx, target, labels)) {
    let ctx: AnalysisContext;
    try {
      const m = option.rewrites.length ? applyRewrites(model, option.rewrites, { checkOpset: target === 'onnx' }) : model;
      ctx = option.rewrites.length || Object.keys(option.settings).length
        ? analysisContext(m, { ...settings, ...option.settings }, baseCtx.source)
        : baseCtx;
    } catch (e) {
      if (isMemlensError(e)) continue;
      throw e;
    }
    const layers = settings.mode === 'train' ? layerItems(ctx, baseFlops) : [];
    evaluated.push({ option, ctx, base: ctx.live.total, layers, share: baseFlops > 0 ? option.recomputeFlops / baseFlops : 0 });
  }
  return evaluated;
}

function point(ev: Evaluated, chosen: number[], peak: number, cost: PlanCost): PlanPoint {
  const caveats = randomCaveats(chosen.flatMap((i) => ev.layers[i].randomOps));
  return { ...cost, peakBytes: peak, caveats, globals: ev.option.labels, checkpointed: chosen.map((i) => ev.layers[i].scope) };
}

/** One combination: its extremes and frontier points, the lowest peak, and the cheapest plan under the budget. */
function exploreOption(ev: Evaluated, budgetBytes: number, nodeLimit: number, state: SearchState): void {
  const all = ev.layers.map((_, i) => i);
  const allPeak = maxOf(sumDeltas(ev.base, ev.layers, all));
  const allCost = { accuracyTier: ev.option.tier, recomputeShare: ev.share + sum(ev.layers.map((l) => l.share)) };
  const nonePeak = maxOf(ev.base);
  state.points.push(point(ev, [], nonePeak, { accuracyTier: ev.option.tier, recomputeShare: ev.share }));
  if (ev.layers.length) state.points.push(point(ev, all, allPeak, allCost));
  const lowest = state.lowest;
  if (!lowest || allPeak < lowest.peak - EPS || (Math.abs(allPeak - lowest.peak) <= EPS && cmp(allCost, lowest.cost) < 0)) {
    state.lowest = { ev, chosen: all, cost: allCost, peak: allPeak };
  }
  // Frontier points of this combination: cheapest layer sets at budgets between its extremes.
  if (ev.layers.length) {
    for (let k = 1; k < 8; k++) {
      const r = search(ev, nonePeak - ((nonePeak - allPeak) * k) / 8, nodeLimit);
      state.nodes += r.nodes;
      if (r.chosen) state.points.push(point(ev, r.chosen, r.peak, { accuracyTier: ev.option.tier, recomputeShare: ev.share + r.share }));
    }
  }
  if (allPeak > budgetBytes) return;
  if (state.best && ev.option.tier > state.best.cost.accuracyTier) return;
  const r = search(ev, budgetBytes, nodeLimit);
  state.nodes += r.nodes;
  if (!r.complete) {
    state.exhausted = false;
    state.lowerBound = Math.min(state.lowerBound, ev.share + r.lowerBound);
  }
  if (!r.chosen) return;
  const cost = { accuracyTier: ev.option.tier, recomputeShare: ev.share + r.share };
  state.points.push(point(ev, r.chosen, r.peak, cost));
  if (!state.best || cmp(cost, state.best.cost) < 0) state.best = { ev, chosen: r.chosen, cost, peak: r.peak };
}

/** No plan fits: among plans reaching the lowest peak, the cheapest one. */
function cheapestAtLowestPeak(evaluated: Evaluated[], lowest: Choice, nodeLimit: number, state: SearchState): Choice {
  let pick = lowest;
  for (const ev of evaluated) {
    const r = search(ev, pick.peak, nodeLimit);
    state.nodes += r.nodes;
    if (!r.chosen) continue;
    const cost = { accuracyTier: ev.option.tier, recomputeShare: ev.share + r.share };
    if (cmp(cost, pick.cost) < 0) pick = { ev, chosen: r.chosen, cost, peak: r.peak };
  }
  return pick;
}

/** The layer loops of a combination, with their layer counts, in layer order. */
function layerLoopsOf(ev: Evaluated): { loop: string; layers: number }[] {
  const counts = new Map<string, number>();
  for (const l of ev.layers) counts.set(l.loop, (counts.get(l.loop) ?? 0) + 1);
  return [...counts].map(([loop, layers]) => ({ loop, layers }));
}

/** The chosen layers as steps, one per layer loop in the order first chosen. */
function layerSteps(ev: Evaluated, chosen: number[], labels: SuggestionLabels): PlanStep[] {
  const byLoop = new Map<string, number[]>();
  for (const i of chosen) {
    const l = ev.layers[i];
    byLoop.set(l.loop, [...(byLoop.get(l.loop) ?? []), l.index]);
  }
  const counts = new Map(layerLoopsOf(ev).map((l) => [l.loop, l.layers]));
  return [...byLoop].map(([loop, indices]) => {
    const layers = counts.get(loop) ?? indices.length;
    return { kind: 'checkpoint-layers', loop, indices, layers, label: labels.layers(indices.length, layers, loop) };
  });
}

interface FitRequest {
  model: Model;
  settings: AnalysisSettings;
  budgetBytes: number;
  source: string;
  labels: SuggestionLabels;
}

/** The picked choice as a plan: its rewrites applied and analysed again, its steps, the frontier. */
function planOf(req: FitRequest, baseCtx: AnalysisContext, pick: Choice, state: SearchState): Plan {
  const { model, settings, budgetBytes, source, labels } = req;
  const ev = pick.ev;
  const layerRewrite: GraphRewrite[] = pick.chosen.length
    ? [{ kind: 'checkpoint', regions: pick.chosen.map((i) => ({ id: regionId('checkpoint', ev.layers[i].scope), scope: ev.layers[i].scope, nodes: ev.layers[i].nodes })) }]
    : [];
  const rewrites = [...ev.option.rewrites, ...layerRewrite];
  const verified = analyzeModel(applyRewrites(model, rewrites), { ...settings, ...ev.option.settings }, { source, entry: null }).peak.bytes;
  const fits = verified <= budgetBytes;
  const baselinePeak = baseCtx.profile.peak.bytes;
  const message = fits
    ? `fits: peak ${formatBytes(baselinePeak)} → ${formatBytes(verified)} within ${formatBytes(budgetBytes)}`
    : `the budget ${formatBytes(budgetBytes)} cannot be met with these rewrites: the lowest reachable peak is ${formatBytes(verified)}`;
  const globals: PlanStep[] = ev.option.choices.map((c) => ({ kind: 'suggestion', id: c.id, spec: c.spec, settings: c.settings, label: labels.action(c.spec) }));
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
      candidateIds: [...ev.option.ids, ...pick.chosen.map((i) => layerChoiceId(ev.layers[i].scope))],
      steps: [...globals, ...layerSteps(ev, pick.chosen, labels)],
    },
    layerScopes: ev.layers.map((l) => l.scope),
    loops: layerLoopsOf(ev),
    frontier: pareto(state.points),
    method: state.exhausted ? 'exact' : 'near-optimal',
    lowerBound: state.exhausted ? null : state.lowerBound,
    searchNodes: state.nodes,
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
      const nodes = ctx.table.nodes.map((n, pos) => (inside.has(pos) ? { ...n, metadata: { ...n.metadata, [CHECKPOINT_KEY]: regionId('checkpoint', layer.scope) } } : n));
      const bm = buildBuffers({ ...ctx.table, nodes }, ctx.shapes, ctx.settings, options);
      const live = liveBytes(bm.buffers, bm.steps.length);
      const delta = new Float64Array(live.total.length);
      for (let s = 0; s < delta.length; s++) delta[s] = live.total[s] - ctx.live.total[s];
      const flops = layer.nodes.reduce((a, p) => a + ctx.flops[p], 0);
      items.push({ scope: layer.scope, loop: loop.prefix, index: layer.index, nodes: layer.nodes.map((p) => ctx.table.nodes[p].name), randomOps: randomOpsAt(ctx.table.nodes, layer.nodes), share: baseFlops > 0 ? flops / baseFlops : 0, delta });
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
function pareto(points: PlanPoint[]): PlanPoint[] {
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
