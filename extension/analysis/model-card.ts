// What a model file is, as read from its graph: inputs and outputs with their dims, opsets,
// producer, node count, file size, and which size settings reach its input dims. Typed data; the
// panel formats it.
import type { DType, Model, ValueInfo } from '../engine/graph';
import type { AnalysisSettings } from '../engine/settings';
import { bindDims } from '../engine/shapes/bind-dims';

export type CardDim =
  | { kind: 'fixed'; size: number }
  /** A named dim; `follows` is the setting that sets it (null: --dim or unbound), `bound` its size in this profile. */
  | { kind: 'symbolic'; name: string; follows: 'batch' | 'sequence' | null; bound: number | null }
  | { kind: 'unknown' };

export interface CardTensor {
  name: string;
  dtype: DType;
  /** null when the rank is unknown. */
  dims: CardDim[] | null;
}

export interface ModelCard {
  producer: string;
  irVersion: number;
  /** Opset per domain, '' being ai.onnx. */
  opsets: Array<{ domain: string; version: number }>;
  /** Nodes of the main graph (subgraphs of If/Loop not counted). */
  nodeCount: number;
  /** Size of the .onnx file, null when the graph came from a front end. */
  fileBytes: number | null;
  inputs: CardTensor[];
  outputs: CardTensor[];
  /** Whether changing the batch / sequence setting changes any input dim. */
  uses: { batch: boolean; sequence: boolean };
}

/**
 * The setting a symbolic dim follows is found by asking the binder itself: bind once as set, once
 * with batch + 1, once with seq + 1; a dim that moves follows that setting. This covers the alias
 * table, positional names and arithmetic names (`2*sequence`) without a second copy of the rules.
 */
function followers(model: Model, settings: AnalysisSettings) {
  const base = bindDims(model, settings).dims;
  const batch = bindDims(model, { ...settings, batch: settings.batch + 1 }).dims;
  const seq = bindDims(model, { ...settings, seq: settings.seq + 1 }).dims;
  const follows = new Map<string, 'batch' | 'sequence' | null>();
  for (const name of Object.keys(base)) {
    const b = batch[name] !== base[name], s = seq[name] !== base[name];
    follows.set(name, b && !s ? 'batch' : s && !b ? 'sequence' : null);
  }
  const uses = {
    batch: Object.keys(base).some((n) => batch[n] !== base[n]),
    sequence: Object.keys(base).some((n) => seq[n] !== base[n]),
  };
  return { base, follows, uses };
}

export function modelCard(model: Model, settings: AnalysisSettings, fileBytes: number | null): ModelCard {
  const { base, follows, uses } = followers(model, settings);
  const bound = new Map(Object.entries(base));
  const tensor = (v: ValueInfo): CardTensor => ({
    name: v.name,
    dtype: v.dtype,
    dims: v.shape === null ? null : v.shape.map((d): CardDim => {
      if (typeof d === 'number') return { kind: 'fixed', size: d };
      if (d === null) return { kind: 'unknown' };
      return { kind: 'symbolic', name: d, follows: follows.get(d) ?? null, bound: bound.get(d) ?? null };
    }),
  });
  return {
    producer: model.producer,
    irVersion: model.irVersion,
    opsets: Object.entries(model.opsets).map(([domain, version]) => ({ domain, version })).sort((a, b) => a.domain.localeCompare(b.domain)),
    nodeCount: model.graph.nodes.length,
    fileBytes,
    inputs: model.graph.inputs.map(tensor),
    outputs: model.graph.outputs.map(tensor),
    uses,
  };
}
