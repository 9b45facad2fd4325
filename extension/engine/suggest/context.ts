// One analysis of a model kept open for the suggestion engine: the pieces analyzeModel computes
// (shapes, tensor table, buffers, live bytes) plus the profile, so rewrites can be judged
// against the buffers that make up the peak.
import type { Model, NodeOrigin } from '../graph';
import type { BufferModel } from '../memory/buffer-types';
import type { LiveProfile } from '../memory/live';
import type { TensorTable } from '../memory/tensor-table';
import { analyze, toProfile } from '../analyze';
import type { Profile } from '../profile';
import type { AnalysisSettings } from '../settings';
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
  const a = analyze(model, settings, source);
  const p = profile ?? toProfile(a, { source, entry: null });
  const flops = a.table.nodes.map((n) => nodeFlops(n, (name) => a.shapes.get(name)));
  const position = new Map(a.table.nodes.map((n, i) => [n.name, i]));
  return {
    model, settings, source, profile: p, shapes: a.shapes, table: a.table, buffers: a.buffers, live: a.live,
    origins: a.origins, flops, forwardFlops: flops.reduce((x, y) => x + y, 0), position,
  };
}
