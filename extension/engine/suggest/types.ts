// Suggestions as plain data: what to change, what it saves (predicted by formula and confirmed by
// re-analysing the rewritten graph), what it costs, and where in the source it applies.
import type { GraphRewrite } from '../onnx-rewrite/rewrite-types';
import type { Phase, SourceRef } from '../profile';
import type { AnalysisSettings } from '../settings';
import type { Accuracy } from './notes';

export type SuggestionKind =
  | 'checkpoint-loop' | 'checkpoint-block' | 'offload-activations' | 'offload-kv'
  | 'quantize-weights' | 'quantize-kv' | 'fused-attention' | 'chunked-loss' | 'mixed-precision' | 'lora';

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

export interface PeakFigure {
  peakBytes: number;
  savingBytes: number;
}

export interface Suggestion {
  id: string;
  kind: SuggestionKind;
  /** Module scope (or `model`) the rewrite applies to. */
  scope: string;
  /** Short imperative, `Checkpoint every layer of blocks`. */
  action: string;
  /** With figures: `Checkpoint every layer of blocks: peak 14.2 → 9.8 GiB, +31% forward compute`. */
  title: string;
  description: string;
  /** Formula figure: bytes at the current peak step that the rewrite removes. */
  predicted: PeakFigure & { formula: string };
  /** The rewritten copy analysed again; null when the memory model cannot express the rewrite. */
  reanalysed: (PeakFigure & { phase: Phase; node: string }) | null;
  cost: SuggestionCost;
  warnings: string[];
  rewrites: GraphRewrite[];
  /** Settings the rewrite changes (mixed precision), null when none. */
  settings: Partial<AnalysisSettings> | null;
  /** Source lines of the affected nodes (first line per affected scope first). */
  sources: SourceRef[];
  /** Node names the rewrite targets, for mapping to source. */
  nodes: string[];
  /** Rewrite detail for source edits. */
  detail: SuggestionDetail;
}

export type SuggestionDetail =
  | { kind: 'checkpoint' | 'offload'; loop: string | null; child: string | null; layers: number }
  | { kind: 'quantize'; format: 'int8' | 'int4' | 'fp8'; groupSize: number | null; modules: string[] }
  | { kind: 'kv'; format: 'int8' | 'fp8' | 'int4' | 'offload' }
  | { kind: 'attention'; sites: number }
  | { kind: 'loss'; chunks: number }
  | { kind: 'precision'; dtype: 'bf16' | 'fp16' }
  | { kind: 'lora'; rank: number; weights: number };
