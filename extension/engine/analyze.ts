// The engine's entry point: a Model and settings in, a Profile out. Pure and synchronous.
import type { Dim, Model, NodeOrigin } from './graph';
import type { InferredTensor, ShapeResult } from './shapes/types';
import { nodeOrigin } from './attribution/origin';
import { lineFigures } from './attribution/lines';
import { buildBuffers } from './memory/buffers';
import type { Buffer, BufferModel, BufferOptions, Step } from './memory/buffer-types';
import { categoriesAt, liveBytes, type LiveProfile } from './memory/live';
import { planOffsets } from './memory/offset-plan';
import { executionOrder, writtenOrder } from './graph-order';
import { buildTensorTable, type TensorTable } from './memory/tensor-table';
import { FROZEN_KEY, KV_OFFLOAD_KEY, PARAMETERS_KEY, SCRIPT_STEP_KEY, TORCH_VERSION_KEY } from './metadata-keys';
import { CATEGORIES, type ByCategory, type PeakInfo, type Profile, type SourceRef, type TimelinePoint } from './profile';
import type { AnalysisSettings } from './settings';
import { bindDims, bindInputValues, type SizedBySettings } from './shapes/bind-dims';
import { inferShapes } from './shapes/infer';
import { validateModel } from './validate';
import { attributionSession, optimisedSession, ortHeldFigures } from './ort/held';
import { DEFAULT_MLAS_KERNELS, type MlasKernels } from './ort/mlas-kernels';
import type { OrtHeldFigures } from './ort/held-figures';
import { assertSoundFigures } from './figures-check';

export interface AnalyzeOptions {
  /** Path of the file the model came from, as shown to the user. */
  source: string;
  entry: string | null;
  /**
   * The ONNX Runtime session to predict held memory for (inference only): its intra-op threads
   * and runs. Absent: one thread, one run.
   */
  ortSession?: {
    intraOpThreads: number;
    runs: number;
    /** The model is the graph a level-'all' session wrote: model that session (memory pattern, prepacking). */
    optimised?: boolean;
    /** The MLAS kernels of the machine the session runs on (analysis/local-ort-session.ts); absent: x86-64 without AMX. */
    kernels?: MlasKernels;
  };
}

/** Every intermediate of one analysis, for the profile and for what-if tools (suggestions). */
export interface Analysis {
  model: Model;
  settings: AnalysisSettings;
  dims: Record<string, number>;
  sized: SizedBySettings;
  shapes: Map<string, InferredTensor>;
  /** Shapes as ONNX Runtime infers them at load time (see staticShapes). */
  staticShapes: Map<string, InferredTensor>;
  table: TensorTable;
  buffers: BufferModel;
  live: LiveProfile;
  origins: NodeOrigin[];
  warnings: string[];
  /** Subgraph bodies' tensors and the If branches shapes follow (see ShapeResult). */
  subgraphs: Pick<ShapeResult, 'bodies' | 'branches'>;
  /** The bodies' tensors as ORT infers them at load time, when staticShapes is that view (symbolic inputs). */
  staticBodies?: Map<string, Map<string, InferredTensor>>;
}

/** `written`: the model is the graph an ONNX Runtime session wrote, run in its file's order (writtenOrder). */
export function analyze(model: Model, settings: AnalysisSettings, source: string, written = false): Analysis {
  const checks = validateModel(model, source);
  const bound = bindDims(model, settings);
  const shapes = inferShapes(model, bound.dims, bindInputValues(model, settings.inputValues), true, settings.branches);
  const order = written ? writtenOrder(model.graph) : executionOrder(model.graph);
  const table = buildTensorTable(model, order, shapes.tensors, settings);
  const view = hasSymbolicInputs(model) ? loadTimeView(model) : null;
  const statics = view?.tensors ?? shapes.tensors; // as staticShapes, from the one load-time inference

  const buffers = buildBuffers(table, shapes.tensors, settings, bufferOptions(model, shapes.tensors, statics));
  const live = liveBytes(buffers.buffers, buffers.steps.length);
  const warnings = [...checks, ...bound.warnings, ...shapes.warnings, ...buffers.warnings];
  if (table.unknown > 0) warnings.push(`${table.unknown} tensors have unknown sizes and count as 0 bytes`);
  return { model, settings, dims: bound.dims, sized: bound.sized, shapes: shapes.tensors, staticShapes: statics, table, buffers, live, origins: table.nodes.map(nodeOrigin), warnings, subgraphs: { bodies: shapes.bodies, branches: shapes.branches }, ...(view ? { staticBodies: view.bodies } : {}) };
}

export function analyzeModel(model: Model, settings: AnalysisSettings, options: AnalyzeOptions): Profile {
  return toProfile(analyze(model, settings, options.source, options.ortSession?.optimised === true), options);
}

/**
 * The figures an analysis gives before the offset plan, the timeline and ONNX Runtime's held
 * memory are computed: the peak, what is live at it, the totals and every line's figures. They
 * are the profile's own values (toProfile adds to them and changes none), so an editor can show
 * them while the rest is computed.
 */
export type FirstFigures = Pick<Profile, 'schema' | 'source' | 'entry' | 'settings' | 'params' | 'trainableParams' | 'peak' | 'breakdown' | 'totals' | 'lines' | 'unknownTensors' | 'warnings'>;

export function firstFigures(a: Analysis, options: AnalyzeOptions): FirstFigures {
  const { settings, table, live } = a;
  const bm = a.buffers;
  const peak = peakOf(a);
  const breakdown = categoriesAt(live, live.peakStep);
  for (const c of CATEGORIES) breakdown[c] = Math.round(breakdown[c]);
  checkBreakdown(breakdown, peak.bytes);
  return assertSoundFigures<FirstFigures>({
    schema: 'memlens.profile/1',
    source: options.source,
    entry: options.entry,
    settings: {
      mode: settings.mode, batch: settings.batch, seq: settings.seq, dtype: settings.dtype,
      optimizer: settings.mode === 'train' ? settings.optimizer : 'none', dims: a.dims, sized: a.sized,
      ...(a.sized.past && settings.past !== undefined ? { past: settings.past } : {}),
      ...(settings.fromCode?.length ? { fromCode: [...settings.fromCode] } : {}),
    },
    params: bm.params.count,
    trainableParams: settings.mode === 'train' ? bm.params.trainableCount : 0,
    peak,
    breakdown,
    totals: totalsOf(table, bm),
    lines: lineFigures(table, a.origins, bm.buffers, live.peakStep, bm.savedTensors),
    unknownTensors: table.unknown,
    warnings: a.warnings,
  }, options.source);
}

/** The whole profile: `first` (computed here unless given) with the plan, the timeline and ORT's held figures. */
export function toProfile(a: Analysis, options: AnalyzeOptions, first: FirstFigures = firstFigures(a, options)): Profile {
  const bm = a.buffers;
  const plan = planOffsets(bm.buffers, bm.steps.length, options.source);
  const { unknownTensors, warnings, ...figures } = first;
  return assertSoundFigures<Profile>({
    ...figures,
    timeline: timelineOf(a),
    plan: {
      idealPeakBytes: plan.idealBytes,
      offsetPlanBytes: plan.arenaBytes,
      fragmentation: plan.arenaBytes > 0 ? (plan.arenaBytes - plan.idealBytes) / plan.arenaBytes : 0,
    },
    unknownTensors,
    warnings,
    ...(a.settings.mode === 'infer' ? { ortHeld: ortHeldOf(a, options) } : {}),
    ...(a.subgraphs.branches.size > 0 ? { branches: [...a.subgraphs.branches].map(([node, c]) => ({ node, taken: c.taken, why: c.why })) } : {}),
  }, options.source);
}

/** ONNX Runtime's held figures for an analysed inference pass (exported for the bench, which times it). */
export function ortHeldOf(a: Analysis, options: AnalyzeOptions): OrtHeldFigures {
  const session = options.ortSession ?? { intraOpThreads: 1, runs: 1 };
  const hasBodies = a.subgraphs.bodies.size > 0;
  // One load-time inference gives both the tensors and the bodies (the analysis made it already for symbolic inputs).
  const view = !hasSymbolicInputs(a.model) ? loadTimeView(a.model)
    : { tensors: a.staticShapes, bodies: a.staticBodies ?? (hasBodies ? loadTimeView(a.model).bodies : new Map()) };
  const staticBodies = hasBodies ? view.bodies : undefined;
  return ortHeldFigures(
    { model: a.model, table: a.table, shapes: a.shapes, staticShapes: view.tensors, weightBytes: totalsOf(a.table, a.buffers).weightBytes, settings: a.settings, subgraphs: a.subgraphs, staticBodies },
    (session.optimised ? optimisedSession : attributionSession)(session.intraOpThreads, session.runs, session.kernels ?? DEFAULT_MLAS_KERNELS),
  );
}

/** The node a step runs, or the optimizer update: its name, op and source line. */
function stepIdentity(a: Analysis, step: Step | undefined): { node: string; op: string; source: SourceRef | null } {
  if (!step) return { node: '', op: '', source: null };
  if (step.phase === 'optimizer') return { node: 'optimizer.step', op: 'OptimizerStep', source: null };
  const node = a.table.nodes[step.node];
  const s = a.origins[step.node].source;
  return { node: node.name, op: node.opType, source: s ? { file: s.file, line: s.line } : null };
}

function timelineOf(a: Analysis): TimelinePoint[] {
  const bm = a.buffers;
  const callerBytes = callerOwnedBytes(bm.buffers, a.model, bm.steps.length);
  return bm.steps.map((step, index) => {
    const { node, op, source } = stepIdentity(a, step);
    return {
      index, node, op, phase: step.phase,
      liveBytes: a.live.total[index],
      byCategory: categoriesAt(a.live, index),
      callerBytes: callerBytes[index],
      source,
    };
  });
}

function peakOf(a: Analysis): PeakInfo {
  const step = a.buffers.steps[a.live.peakStep];
  return { bytes: a.live.peakBytes, phase: step?.phase ?? 'forward', ...stepIdentity(a, step) };
}

function totalsOf(table: TensorTable, bm: BufferModel): Profile['totals'] {
  let weightBytes = 0, kvProduced = 0, kvInputs = 0, saved = 0, gradientBytes = 0, optimizerStateBytes = 0;
  for (const t of table.tensors.values()) {
    if (t.isWeight) weightBytes += t.bytes;
    if (t.category === 'kvCache') {
      if (t.producer !== null) kvProduced += t.bytes;
      else kvInputs += t.bytes;
    }
  }
  for (const name of bm.savedTensors) saved += table.tensors.get(name)?.bytes ?? 0;
  for (const b of bm.buffers) {
    if (b.kind === 'saved') saved += b.bytes;
    if (b.kind === 'gradient' && b.category === 'gradients') gradientBytes += b.bytes;
    if (b.kind === 'optimizer') optimizerStateBytes += b.bytes;
  }
  // A decode step holds the cache it reads (graph inputs) and the one it writes at once: both are
  // named, so the KV at the peak never exceeds the KV totals.
  return {
    weightBytes, kvCacheBytes: kvProduced > 0 ? kvProduced : kvInputs, kvPastBytes: kvProduced > 0 ? kvInputs : 0,
    savedActivationBytes: saved, gradientBytes, optimizerStateBytes,
  };
}

/** The categories at the peak add up to the peak (the profile's own invariant). */
function checkBreakdown(breakdown: ByCategory, peakBytes: number): void {
  let sum = 0;
  for (const c of CATEGORIES) sum += breakdown[c];
  if (sum !== peakBytes) throw new Error(`profile invariant broken: the categories at the peak add up to ${sum} B, the peak is ${peakBytes} B`);
}

/**
 * The buffer options of an analysis: frozen parameters and the parameter list from the model's
 * metadata, and in-place reuse only between tensors whose shapes ONNX Runtime knows statically
 * equal: it plans from shapes inferred at load time, where an unbound input dim stays symbolic.
 */
export function bufferOptions(model: Model, bound: Map<string, InferredTensor>, statics?: Map<string, InferredTensor>): BufferOptions {
  const shapes = statics ?? staticShapes(model, bound);
  return {
    frozen: nameList(model, FROZEN_KEY) ?? new Set(),
    parameters: nameList(model, PARAMETERS_KEY),
    sameStaticShape: (a, b) => sameShape(shapes.get(a)?.shape ?? null, shapes.get(b)?.shape ?? null),
    kvOffload: model.metadata[KV_OFFLOAD_KEY] === 'layer',
    ...scriptOptimizer(model),
  };
}

interface RecordedStep { optimizer?: { implementation?: unknown } | null; loss?: { gradFn?: unknown } | null }

function parsedStep(text: string | undefined): RecordedStep | null {
  try {
    return JSON.parse(text ?? 'null') as RecordedStep | null;
  } catch {
    return null;
  }
}

/** What the script's step does (recorded by the export bridge): its optimizer implementation and loss, and its torch's major version. */
function scriptOptimizer(model: Model): Pick<BufferOptions, 'scriptOptimizer' | 'torchMajor' | 'loss'> {
  const step = parsedStep(model.metadata[SCRIPT_STEP_KEY]);
  const implementation = step?.optimizer?.implementation;
  const major = /^(\d+)\./.exec(model.metadata[TORCH_VERSION_KEY] ?? '');
  return {
    ...(implementation === 'single-tensor' || implementation === 'foreach' || implementation === 'fused' ? { scriptOptimizer: implementation } : {}),
    ...(major ? { torchMajor: Number(major[1]) } : {}),
    // F.cross_entropy (log_softmax + nll_loss) ends in NllLossBackward0.
    ...(step?.loss?.gradFn === 'NllLossBackward0' ? { loss: 'cross-entropy' as const } : {}),
  };
}

/**
 * Shapes as ONNX Runtime's planner sees them: ONNX shape inference at load time, which reads
 * initializers (and Constant values, which become initializers) but no value a node computes, and
 * keeps input dims symbolic. Outputs of Reshape, Slice, Expand... fed by Shape chains stay unsized.
 */
export function loadTimeShapes(model: Model): Map<string, InferredTensor> {
  return loadTimeView(model).tensors;
}

/** The load-time tensors (see loadTimeShapes) and subgraph bodies' tensors, from one inference. */
function loadTimeView(model: Model): { tensors: Map<string, InferredTensor>; bodies: Map<string, Map<string, InferredTensor>> } {
  try {
    const r = inferShapes(model, {}, {}, false);
    return { tensors: r.tensors, bodies: r.bodies };
  } catch {
    return { tensors: new Map(), bodies: new Map() }; // no static knowledge: ORT's planner would reuse nothing either
  }
}

function hasSymbolicInputs(model: Model): boolean {
  return model.graph.inputs.some((i) => i.shape?.some((d) => typeof d !== 'number'));
}

/**
 * The shapes in-place reuse is decided on: with symbolic inputs, ORT's load-time view (an unbound
 * dim stays a name); with static inputs the bound shapes, which the load-time view then matches
 * wherever no node-computed value is involved.
 */
export function staticShapes(model: Model, bound: Map<string, InferredTensor>): Map<string, InferredTensor> {
  return hasSymbolicInputs(model) ? loadTimeShapes(model) : bound;
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
  // Difference array: an input is live over most steps, and a decoder has hundreds of KV inputs.
  const diff = new Float64Array(steps + 1);
  for (const b of buffers) {
    if (b.kind !== 'tensor' || !inputs.has(b.tensor) || model.graph.initializers.has(b.tensor)) continue;
    const end = Math.min(b.end, steps - 1);
    if (b.start > end) continue;
    diff[b.start] += b.bytes;
    diff[end + 1] -= b.bytes;
  }
  const out = new Float64Array(steps);
  let run = 0;
  for (let s = 0; s < steps; s++) out[s] = run += diff[s];
  return out;
}
