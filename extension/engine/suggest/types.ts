// Suggestions as plain data: what to change, what it saves (predicted by formula and confirmed by
// re-analysing the rewritten graph), what it costs, and where in the source it applies.
import type { Dim } from '../graph';
import type { GraphRewrite, KvFormat, WeightFormat } from '../onnx-rewrite/rewrite-types';
import type { Phase, SourceRef } from '../profile';
import type { AnalysisSettings } from '../settings';
import type { Accuracy } from './notes';

/**
 * What a suggestion changes, as typed data: its kind with the detail that kind carries. Ids
 * (ids.ts) and the text shown for it (labels.ts) are made from these fields, and code that acts on
 * a suggestion (planner, source edits) reads only them.
 */
export type SuggestionSpec =
  /** Checkpoint every layer of a layer loop (`loop` is its module path, `blocks`). */
  | { kind: 'checkpoint-loop'; detail: { kind: 'checkpoint'; loop: string; child: null; layers: number } }
  /** Checkpoint one child module (`attn`) in every layer of a loop. */
  | { kind: 'checkpoint-block'; detail: { kind: 'checkpoint'; loop: string; child: string; layers: number } }
  | { kind: 'offload-activations'; detail: { kind: 'offload'; loop: string; child: null; layers: number } }
  /** `modules`: the one weight group quantized (`model`, or `blocks.*.mlp`). */
  | { kind: 'quantize-weights'; detail: { kind: 'quantize'; format: WeightFormat; groupSize: number | null; modules: string[] } }
  | { kind: 'quantize-kv'; detail: { kind: 'kv'; format: KvFormat } }
  | { kind: 'offload-kv'; detail: { kind: 'kv'; format: 'offload' } }
  | { kind: 'fused-attention'; detail: { kind: 'attention'; sites: number } }
  /** `head`: the vocabulary projection node; `logits`: its output shape. */
  | { kind: 'chunked-loss'; detail: { kind: 'loss'; chunks: number; head: string; logits: Dim[] } }
  | { kind: 'mixed-precision'; detail: { kind: 'precision'; dtype: 'bf16' | 'fp16'; training: boolean } }
  | { kind: 'lora'; detail: { kind: 'lora'; rank: number; weights: number } };

export type SuggestionKind = SuggestionSpec['kind'];
export type SuggestionDetail = SuggestionSpec['detail'];

export interface SuggestionCost {
  /** FLOPs run again in backward (recomputed regions, fused-attention scores, chunked logits). */
  recomputeFlops: number;
  /** recomputeFlops over the model's forward FLOPs. */
  recomputeShare: number;
  /** Bytes moved over the host link per step (to the host and back). */
  transferBytes: number;
  transferSeconds: number;
  link: string | null;
  accuracy: Accuracy;
  accuracyNote: string;
}

/**
 * A condition under which a fix does not reproduce the results: random ops (Dropout…) inside a
 * recomputed region draw new numbers when recomputed unless the RNG state is saved and restored
 * (torch.utils.checkpoint's preserve_rng_state does; ONNX has no such state).
 */
export interface Caveat {
  kind: 'recomputes-random';
  /** Op types of the random ops, sorted. */
  ops: string[];
}

export interface PeakFigure {
  peakBytes: number;
  savingBytes: number;
}

interface SuggestionFigures {
  id: string;
  /** Module scope (or `model`) the rewrite applies to. */
  scope: string;
  /** Short imperative, `Checkpoint every layer of blocks` (labels.ts; for people only). */
  action: string;
  /** With figures: `Checkpoint every layer of blocks: peak 14.2 → 9.8 GiB, +31% forward compute`. */
  title: string;
  description: string;
  /** Formula figure: bytes at the current peak step that the rewrite removes. */
  predicted: PeakFigure & { formula: string };
  /** The rewritten copy analysed again; null when it could not be analysed. */
  reanalysed: (PeakFigure & { phase: Phase; node: string }) | null;
  cost: SuggestionCost;
  /** Why the results may differ although `cost.accuracy` is unchanged (labels.ts words them). */
  caveats: Caveat[];
  warnings: string[];
  rewrites: GraphRewrite[];
  /** Settings the rewrite changes (mixed precision), null when none. */
  settings: Partial<AnalysisSettings> | null;
  /** Source lines of the affected nodes (first line per affected scope first). */
  sources: SourceRef[];
  /** Node names the rewrite targets, for mapping to source. */
  nodes: string[];
}

export type Suggestion = SuggestionFigures & SuggestionSpec;
