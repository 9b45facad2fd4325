// One analysis of a model kept open for the suggestion engine: the pieces analyzeModel computes
// (shapes, tensor table, buffers, live bytes) plus the profile, so rewrites can be judged
// against the buffers that make up the peak.
import type { Model, NodeOrigin } from '../graph';
import { analyzeModel } from '../analyze';
import { nodeOrigin } from '../attribution/origin';
import { buildBuffers, type BufferModel } from '../memory/buffers';
import { liveBytes, type LiveProfile } from '../memory/live';
import { executionOrder } from '../memory/schedule';
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
  const buffers = buildBuffers(table, shapes, settings, { frozen: frozenSet(model) });
  const live = liveBytes(buffers.buffers, buffers.steps.length);
  const origins = table.nodes.map(nodeOrigin);
  const flops = table.nodes.map((n) => nodeFlops(n, (name) => shapes.get(name)));
  const position = new Map(table.nodes.map((n, i) => [n.name, i]));
  return {
    model, settings, source, profile: p, shapes, table, buffers, live, origins, flops,
    forwardFlops: flops.reduce((a, b) => a + b, 0), position,
  };
}

export function frozenSet(model: Model): Set<string> {
  try {
    const v = JSON.parse(model.metadata[FROZEN_KEY] ?? '[]');
    return new Set(Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  } catch {
    return new Set();
  }
}
