// The one place suggestions and plan steps become text, for people only. Nothing reads these
// strings back; code acts on the typed spec (types.ts) and plan steps (planner.ts).
import { DEFAULT_INT4_GROUP } from '../onnx-rewrite/quantize-weights';
import type { WeightFormat } from '../onnx-rewrite/rewrite-types';
import type { Caveat, SuggestionSpec } from './types';

function weightFormatLabel(format: WeightFormat, groupSize: number | null): string {
  switch (format) {
    case 'int8': return 'int8 (per output channel)';
    case 'int4': return `int4 (groups of ${groupSize ?? DEFAULT_INT4_GROUP})`;
    case 'fp8': return 'fp8 e4m3';
  }
}

/** `Checkpoint every layer of blocks (8 layers)`. */
function suggestionAction(s: SuggestionSpec): string {
  switch (s.kind) {
    case 'checkpoint-loop': return `Checkpoint every layer of ${s.detail.loop} (${s.detail.layers} layers)`;
    case 'checkpoint-block': return `Checkpoint ${s.detail.child} in every layer of ${s.detail.loop}`;
    case 'offload-activations': return `Offload the saved activations of ${s.detail.loop} to CPU memory`;
    case 'quantize-weights': {
      const scope = s.detail.modules.join(', ');
      return `Quantize the weights of ${scope === 'model' ? 'the whole model' : scope} to ${weightFormatLabel(s.detail.format, s.detail.groupSize)}`;
    }
    case 'quantize-kv': return `Store the KV cache as ${s.detail.format}`;
    case 'offload-kv': return 'Offload the KV cache to CPU memory, one layer on the device at a time';
    case 'fused-attention': return `Use fused attention (${s.detail.sites} explicit softmax(QKᵀ)V site${s.detail.sites > 1 ? 's' : ''})`;
    case 'chunked-loss': return `Compute the loss in ${s.detail.chunks} chunks (logits ${s.detail.logits.join('×')})`;
    case 'mixed-precision': return s.detail.training ? `Train in ${s.detail.dtype} mixed precision` : `Run in ${s.detail.dtype}`;
    case 'lora': return `Freeze the backbone and train rank-${s.detail.rank} adapters (${s.detail.weights} weights)`;
  }
}

/** The text of suggestions and plans, as one record so that the engine's callers can give another (a translation). */
export interface SuggestionLabels {
  /** A suggestion's short imperative. */
  action(s: SuggestionSpec): string;
  /** Checkpointing `count` of the `layers` layers of `loop`. */
  layers(count: number, layers: number, loop: string): string;
  /** Why results may change although the fix is exact in its math. */
  caveat(c: Caveat): string;
}

export const LABELS: SuggestionLabels = {
  action: suggestionAction,
  layers: (count, layers, loop) => `checkpoint ${count} of ${layers} layers of ${loop}`,
  caveat: (c) => `${c.ops.join(', ')} inside the recomputed region: recomputation draws new random numbers, so results change unless the RNG state is saved and restored`,
};

/** `recomputes Dropout (new random numbers)`: the short form beside a cost (titles, plan rows). */
export function caveatShort(c: Caveat): string {
  return `recomputes ${c.ops.join(', ')} (new random numbers)`;
}
