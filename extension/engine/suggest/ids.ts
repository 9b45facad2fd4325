// The one place ids are made: from typed fields, never from display text. Suggestion ids are
// stable across runs (`checkpoint:blocks`, `quantize:model:int8`); region ids mark the nodes of a
// checkpointed or offloaded region in the rewritten graph's metadata.
import type { SuggestionSpec } from './types';

export function suggestionId(s: SuggestionSpec): string {
  switch (s.kind) {
    case 'checkpoint-loop': return `checkpoint:${s.detail.loop}`;
    case 'checkpoint-block': return `checkpoint:${s.detail.loop}.*.${s.detail.child}`;
    case 'offload-activations': return `offload:${s.detail.loop}`;
    case 'quantize-weights': return `quantize:${s.detail.modules.join('+')}:${s.detail.format}`;
    case 'quantize-kv': return `kv:${s.detail.format}`;
    case 'offload-kv': return 'kv:offload';
    case 'fused-attention': return 'fused-attention';
    case 'chunked-loss': return `chunked-loss:${s.detail.head}`;
    case 'mixed-precision': return 'mixed-precision';
    case 'lora': return 'lora';
  }
}

/** Id of a region of layer (or block) `scope` in a checkpoint or offload rewrite. */
export function regionId(how: 'checkpoint' | 'offload', scope: string): string {
  return how === 'checkpoint' ? `ckpt:${scope}` : `offload:${scope}`;
}

/** Id of the planner's choice to checkpoint one layer. */
export function layerChoiceId(scope: string): string {
  return `checkpoint-layer:${scope}`;
}
