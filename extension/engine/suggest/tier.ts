// A fix's accuracy tier: 0 exact (checkpointing, offload, fused attention, chunked loss), 1 mixed
// precision, 2 8-bit quantization, 3 4-bit. The planner prefers lower tiers and the editor's
// preferred quick fix follows the same order; kept apart so the editor's start-up bundle does not
// pull in the planner and the engine behind it.
import type { SuggestionSpec } from './types';

export function tierOf(spec: SuggestionSpec): number {
  switch (spec.kind) {
    case 'mixed-precision': return 1;
    case 'quantize-weights':
    case 'quantize-kv': return spec.detail.format === 'int4' ? 3 : 2;
    default: return 0;
  }
}
