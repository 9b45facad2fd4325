// One analysis of a model kept open for the suggestion engine: the pieces analyzeModel computes
// (shapes, tensor table, buffers, live bytes) plus the profile, so rewrites can be judged
// against the buffers that make up the peak.
import type { Dim, Model, NodeOrigin } from '../graph';
import { analyzeModel } from '../analyze';
import { nodeOrigin } from '../attribution/origin';
import { buildBuffers, type BufferModel, type BufferOptions } from '../memory/buffers';
import { liveBytes, type LiveProfile } from '../memory/live';
import { executionOrder } from '../graph-order';
import { buildTensorTable, type TensorTable } from '../memory/tensor-table';
import { FROZEN_KEY } from '../metadata-keys';
import type { Profile } from '../profile';
import type { AnalysisSettings } from '../settings';
import { bindDims } from '../shapes/bind-dims';
import { inferShapes } from '../shapes/infer';
import type { InferredTensor } from '../shapes/types';
import { nodeFlops } from './flops';

export interface AnalysisContext {
  model: Model;
  settings: AnalysisSettings;
  source: string;
  profile: Profile;
  shapes: Map<string, InferredTensor>;
  table: TensorTable;
  buffers: BufferModel;
  live: LiveProfile;
  origins: NodeOrigin[];
  /** Forward FLOPs per node position, and their sum. */
  flops: number[];
  forwardFlops: number;
  /** Node name -> position in execution order. */
  position: Map<string, number>;
}

export function analysisContext(model: Model, settings: AnalysisSettings, source: string, profile?: Profile): AnalysisContext {
  const p = profile ?? analyzeModel(model, settings, { source, entry: null });
  const bound = bindDims(model, settings);
  const shapes = inferShapes(model, bound.dims).tensors;
  const order = executionOrder(model.graph);
  const table = buildTensorTable(model, order, shapes, settings);
  const buffers = buildBuffers(table, shapes, settings, bufferOptions(model, shapes));
  const live = liveBytes(buffers.buffers, buffers.steps.length);
  const origins = table.nodes.map(nodeOrigin);
  const flops = table.nodes.map((n) => nodeFlops(n, (name) => shapes.get(name)));
  const position = new Map(table.nodes.map((n, i) => [n.name, i]));
  return {
    model, settings, source, profile: p, shapes, table, buffers, live, origins, flops,
    forwardFlops: flops.reduce((a, b) => a + b, 0), position,
  };
}

/**
 * The buffer options analyzeModel uses (frozen parameters; in-place reuse only between tensors
 * whose shapes ONNX Runtime knows statically equal), so figures here match the profile exactly.
 */
export function bufferOptions(model: Model, shapes: Map<string, InferredTensor>): BufferOptions {
  const symbolic = model.graph.inputs.some((i) => i.shape?.some((d) => typeof d !== 'number'));
  let known = shapes;
  if (symbolic) {
    try {
      known = inferShapes(model, {}).tensors;
    } catch {
      known = new Map();
    }
  }
  const same = (a: Dim[] | null, b: Dim[] | null) => !!a && !!b && a.length === b.length && a.every((d, i) => d !== null && d === b[i]);
  return { frozen: frozenSet(model), sameStaticShape: (a, b) => same(known.get(a)?.shape ?? null, known.get(b)?.shape ?? null) };
}

export function frozenSet(model: Model): Set<string> {
  try {
    const v = JSON.parse(model.metadata[FROZEN_KEY] ?? '[]');
    return new Set(Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  } catch {
    return new Set();
  }
}
