// The engine's entry point: a Model and settings in, a Profile out. Pure and synchronous.
import type { Dim, Model } from './graph';
import type { InferredTensor } from './shapes/types';
import { nodeOrigin } from './attribution/origin';
import { lineFigures } from './attribution/lines';
import { buildBuffers } from './memory/buffers';
import { categoriesAt, liveBytes } from './memory/live';
import { planOffsets } from './memory/offset-plan';
import { executionOrder } from './graph-order';
import { buildTensorTable } from './memory/tensor-table';
import { FROZEN_KEY } from './metadata-keys';
import { CATEGORIES, type Profile, type SourceRef, type TimelinePoint } from './profile';
import type { AnalysisSettings } from './settings';
import { bindDims } from './shapes/bind-dims';
import { inferShapes } from './shapes/infer';
import { validateModel } from './validate';

export interface AnalyzeOptions {
  /** Path of the file the model came from, as shown to the user. */
  source: string;
  entry: string | null;
}

export function analyzeModel(model: Model, settings: AnalysisSettings, options: AnalyzeOptions): Profile {
  const checks = validateModel(model, options.source);
  const bound = bindDims(model, settings);
  const shapes = inferShapes(model, bound.dims);
  const order = executionOrder(model.graph);
  const table = buildTensorTable(model, order, shapes.tensors, settings);
  const bm = buildBuffers(table, shapes.tensors, settings, { frozen: frozenParams(model), sameStaticShape: staticShapeCheck(model, shapes.tensors) });
  const live = liveBytes(bm.buffers, bm.steps.length);
  const plan = planOffsets(bm.buffers, bm.steps.length);
  const origins = table.nodes.map(nodeOrigin);
  const lines = lineFigures(table, origins, bm.buffers, live.peakStep, bm.savedTensors);

  const sourceAt = (pos: number): SourceRef | null => {
    const s = pos >= 0 ? origins[pos].source : null;
    return s ? { file: s.file, line: s.line } : null;
  };
  const timeline: TimelinePoint[] = bm.steps.map((step, index) => ({
    index,
    node: step.node >= 0 ? table.nodes[step.node].name : 'optimizer.step',
    op: step.node >= 0 ? table.nodes[step.node].opType : 'OptimizerStep',
    phase: step.phase,
    liveBytes: live.total[index],
    byCategory: categoriesAt(live, index),
    source: sourceAt(step.node),
  }));

  let weightBytes = 0, kvProduced = 0, kvInputs = 0, saved = 0, gradientBytes = 0, optimizerStateBytes = 0;
  for (const t of table.tensors.values()) {
    if (t.isWeight) weightBytes += t.bytes;
    if (t.category === 'kvCache') {
      if (t.producer >= 0) kvProduced += t.bytes;
      else kvInputs += t.bytes;
    }
  }
  for (const name of bm.savedTensors) saved += table.tensors.get(name)!.bytes;
  for (const b of bm.buffers) {
    if (b.kind === 'saved') saved += b.bytes;
    if (b.kind === 'gradient' && b.category === 'gradients') gradientBytes += b.bytes;
    if (b.kind === 'optimizer') optimizerStateBytes += b.bytes;
  }

  const warnings = [...checks, ...bound.warnings, ...shapes.warnings, ...bm.warnings];
  if (table.unknown > 0) warnings.push(`${table.unknown} tensors have unknown sizes and count as 0 bytes`);
  const peakStep = bm.steps[live.peakStep];
  const peakNode = peakStep && peakStep.node >= 0 ? table.nodes[peakStep.node] : undefined;
  const breakdown = categoriesAt(live, live.peakStep);
  for (const c of CATEGORIES) breakdown[c] = Math.round(breakdown[c]);

  return {
    schema: 'memlens.profile/1',
    source: options.source,
    entry: options.entry,
    settings: {
      mode: settings.mode, batch: settings.batch, seq: settings.seq, dtype: settings.dtype,
      optimizer: settings.mode === 'train' ? settings.optimizer : 'none', dims: bound.dims,
    },
    params: bm.params.count,
    trainableParams: settings.mode === 'train' ? bm.params.trainableCount : 0,
    peak: {
      bytes: live.peakBytes,
      phase: peakStep?.phase ?? 'forward',
      node: peakNode?.name ?? (peakStep?.phase === 'optimizer' ? 'optimizer.step' : ''),
      op: peakNode?.opType ?? (peakStep?.phase === 'optimizer' ? 'OptimizerStep' : ''),
      source: peakStep ? sourceAt(peakStep.node) : null,
    },
    breakdown,
    totals: {
      weightBytes,
      kvCacheBytes: kvProduced > 0 ? kvProduced : kvInputs,
      savedActivationBytes: saved,
      gradientBytes,
      optimizerStateBytes,
    },
    lines,
    timeline,
    plan: {
      idealPeakBytes: plan.idealBytes,
      offsetPlanBytes: plan.arenaBytes,
      fragmentation: plan.arenaBytes > 0 ? (plan.arenaBytes - plan.idealBytes) / plan.arenaBytes : 0,
    },
    unknownTensors: table.unknown,
    warnings,
  };
}

/**
 * ONNX Runtime plans in-place reuse from shapes it infers at load time, where an unbound input dim
 * stays symbolic (or unknown); a graph whose inputs are all static needs no second pass.
 */
function staticShapeCheck(model: Model, bound: Map<string, InferredTensor>): (a: string, b: string) => boolean {
  const symbolic = model.graph.inputs.some((i) => i.shape?.some((d) => typeof d !== 'number'));
  const shapes = symbolic ? quietShapes(model) : bound;
  return (a, b) => sameShape(shapes.get(a)?.shape ?? null, shapes.get(b)?.shape ?? null);
}

function quietShapes(model: Model): Map<string, InferredTensor> {
  try {
    return inferShapes(model, {}).tensors;
  } catch {
    return new Map(); // no static knowledge: ORT would reuse nothing in place either
  }
}

function sameShape(a: Dim[] | null, b: Dim[] | null): boolean {
  if (!a || !b || a.length !== b.length) return false;
  return a.every((d, i) => d !== null && d === b[i]);
}

/** Frozen parameters listed by the model's producer (JSON array of initializer names). */
function frozenParams(model: Model): Set<string> {
  const raw = model.metadata[FROZEN_KEY];
  if (!raw) return new Set();
  try {
    const list = JSON.parse(raw);
    return new Set(Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : []);
  } catch {
    return new Set();
  }
}
