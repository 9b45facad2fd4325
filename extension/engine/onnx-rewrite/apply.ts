// Applies graph rewrites to a copy of a model; the input model is never changed.
import type { Model } from '../graph';
import { cloneModel } from './clone';
import { fuseAttention } from './fused-attention';
import { addLora } from './lora';
import { quantizeKv, requireKvCache } from './quantize-kv';
import { KV_OFFLOAD_KEY } from '../metadata-keys';
import { quantizeWeights } from './quantize-weights';
import { markRegions } from './regions-meta';
import { chunkLoss } from './chunked-loss';
import type { GraphRewrite } from './rewrite-types';

export interface ApplyOptions {
  /** Refuse rewrites the model's opset cannot run (for files written to disk). */
  checkOpset: boolean;
}

export function applyRewrites(model: Model, rewrites: GraphRewrite[], options: ApplyOptions = { checkOpset: false }): Model {
  const out = cloneModel(model);
  for (const r of rewrites) applyOne(out, r, options);
  return out;
}

function applyOne(model: Model, r: GraphRewrite, options: ApplyOptions): void {
  switch (r.kind) {
    case 'checkpoint': return markRegions(model, 'checkpoint', r.regions);
    case 'offload': return markRegions(model, 'offload', r.regions);
    case 'quantize-weights': return quantizeWeights(model, r.weights, r.format, r.groupSize, options);
    case 'quantize-kv': return quantizeKv(model, r.format, options);
    case 'offload-kv': return offloadKv(model);
    case 'fused-attention': return fuseAttention(model, r.sites);
    case 'chunked-loss': return chunkLoss(model, r);
    case 'lora': return addLora(model, r.weights, r.rank);
  }
}

/** A runtime choice, not a graph change: recorded for the memory model (see memory/kv-offload.ts). */
function offloadKv(model: Model): void {
  requireKvCache(model);
  model.metadata[KV_OFFLOAD_KEY] = 'layer';
}
