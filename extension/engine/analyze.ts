// The engine's entry point: a Model and settings in, a Profile out. Pure and synchronous.
import type { Dim, Model, NodeOrigin } from './graph';
import type { InferredTensor } from './shapes/types';
import { nodeOrigin } from './attribution/origin';
import { lineFigures } from './attribution/lines';
import { buildBuffers, type Buffer, type BufferModel, type BufferOptions } from './memory/buffers';
import { categoriesAt, liveBytes, type LiveProfile } from './memory/live';
import { planOffsets } from './memory/offset-plan';
import { executionOrder } from './graph-order';
import { buildTensorTable, type TensorTable } from './memory/tensor-table';
import { FROZEN_KEY, KV_OFFLOAD_KEY, PARAMETERS_KEY } from './metadata-keys';
import { CATEGORIES, type Profile, type SourceRef, type TimelinePoint } from './profile';
import type { AnalysisSettings } from './settings';
import { bindDims, bindInputValues } from './shapes/bind-dims';
import { inferShapes } from './shapes/infer';
import { validateModel } from './validate';

export interface AnalyzeOptions {
  /** Path of the file the model came from, as shown to the user. */
  source: string;
  entry: string | null;
}

/** Every intermediate of one analysis, for the profile and for what-if tools (suggestions). */
export interface Analysis {
  model: Model;
  settings: AnalysisSettings;
  dims: Record<string, number>;
  shapes: Map<string, InferredTensor>;
  table: TensorTable;
  buffers: BufferModel;
  live: LiveProfile;
  origins: NodeOrigin[];
  warnings: string[];
}

export function analyze(model: Model, settings: AnalysisSettings, source: string): Analysis {
  const checks = validateModel(model, source);
  const bound = bindDims(model, settings);
  const shapes = inferShapes(model, bound.dims, bindInputValues(model, settings.inputValues));
  const order = executionOrder(model.graph);
  const table = buildTensorTable(model, order, shapes.tensors, settings);
  const buffers = buildBuffers(table, shapes.tensors, settings, bufferOptions(model, shapes.tensors));
  const live = liveBytes(buffers.buffers, buffers.steps.length);
  const warnings = [...checks, ...bound.warnings, ...shapes.warnings, ...buffers.warnings];
  if (table.unknown > 0) warnings.push(`${table.unknown} tensors have unknown sizes and count as 0 bytes`);
  return { model, settings, dims: bound.dims, shapes: shapes.tensors, table, buffers, live, origins: table.nodes.map(nodeOrigin), warnings };
}

export function analyzeModel(model: Model, settings: AnalysisSettings, options: AnalyzeOptions): Profile {
  return toProfile(analyze(model, settings, options.source), options);
}

export function toProfile(a: Analysis, options: AnalyzeOptions): Profile {
  const { settings, table, live, origins } = a;
  const bm = a.buffers;
  const plan = planOffsets(bm.buffers, bm.steps.length);
  const lines = lineFigures(table, origins, bm.buffers, live.peakStep, bm.savedTensors);

  const sourceAt = (pos: number): SourceRef | null => {
    const s = pos >= 0 ? origins[pos].source : null;
    return s ? { file: s.file, line: s.line } : null;
  };
  const callerBytes = callerOwnedBytes(bm.buffers, a.model, bm.steps.length);
  const timeline: TimelinePoint[] = bm.steps.map((step, index) => ({
    index,
    node: step.node >= 0 ? table.nodes[step.node].name : 'optimizer.step',
    op: step.node >= 0 ? table.nodes[step.node].opType : 'OptimizerStep',
    phase: step.phase,
    liveBytes: live.total[index],
    byCategory: categoriesAt(live, index),
    callerBytes: callerBytes[index],
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
      optimizer: settings.mode === 'train' ? settings.optimizer : 'none', dims: a.dims,
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
    warnings: a.warnings,
  };
}

/**
 * The buffer options of an analysis: frozen parameters and the parameter list from the model's
 * metadata, and in-place reuse only between tensors whose shapes ONNX Runtime knows statically
 * equal: it plans from shapes inferred at load time, where an unbound input dim stays symbolic.
 */
export function bufferOptions(model: Model, bound: Map<string, InferredTensor>): BufferOptions {
  const symbolic = model.graph.inputs.some((i) => i.shape?.some((d) => typeof d !== 'number'));
  const shapes = symbolic ? quietShapes(model) : bound;
  return {
    frozen: nameList(model, FROZEN_KEY) ?? new Set(),
    parameters: nameList(model, PARAMETERS_KEY),
    sameStaticShape: (a, b) => sameShape(shapes.get(a)?.shape ?? null, shapes.get(b)?.shape ?? null),
    kvOffload: model.metadata[KV_OFFLOAD_KEY] === 'layer',
  };
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

/** A JSON array of initializer names in the model's metadata (frozen, parameters); null when absent. */
function nameList(model: Model, key: string): Set<string> | null {
  const raw = model.metadata[key];
  if (!raw) return null;
  try {
    const list = JSON.parse(raw) as unknown;
    return Array.isArray(list) ? new Set(list.filter((x): x is string => typeof x === 'string')) : null;
  } catch {
    return null;
  }
}

/** Per step, bytes of the graph inputs that are live (the caller passes them in). */
function callerOwnedBytes(buffers: Buffer[], model: Model, steps: number): Float64Array {
  const inputs = new Set(model.graph.inputs.map((i) => i.name));
  const out = new Float64Array(steps);
  for (const b of buffers) {
    if (b.kind !== 'tensor' || !inputs.has(b.label) || model.graph.initializers.has(b.label)) continue;
    for (let s = b.start; s <= Math.min(b.end, steps - 1); s++) out[s] += b.bytes;
  }
  return out;
}
