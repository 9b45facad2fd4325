// The profile: the engine's one output, plain data, serialised as schema `memlens.profile/1`.
import type { TorchMeasuredFigures } from './measured-torch';
import type { Mode, OptimizerKind, Precision } from './settings';

export type Phase = 'forward' | 'backward' | 'optimizer';

export type Category =
  | 'weights' | 'activations' | 'kvCache' | 'gradients' | 'optimizerState' | 'inputs' | 'outputs' | 'other';

export const CATEGORIES: readonly Category[] = [
  'weights', 'activations', 'kvCache', 'gradients', 'optimizerState', 'inputs', 'outputs', 'other',
];

export type ByCategory = Record<Category, number>;

export interface SourceRef {
  file: string;
  line: number;
}

export interface PeakInfo {
  bytes: number;
  phase: Phase;
  /** Name of the node executing at the peak. */
  node: string;
  op: string;
  source: SourceRef | null;
}

export interface LineFigures {
  file: string | null;
  line: number | null;
  /** Module scope when no line is known (or the innermost scope of the line). */
  scope: string;
  /** Bytes of tensors produced by nodes of this line (all executions summed). */
  bytes: number;
  /** Bytes produced by this line that are live at the peak. */
  peakBytes: number;
  /** Bytes this line's nodes save for backward (training). */
  savedBytes: number;
  /** KV-cache bytes this line produces. */
  kvBytes: number;
  /** How many times the line ran (a line in a loop over 32 layers reports 32). */
  repeats: number;
  /** Per op type breakdown of `bytes` for hovers. */
  ops: Record<string, number>;
  /** Node names of this line, in execution order (for the runner's per-node join). */
  nodes: string[];
}

export interface TimelinePoint {
  index: number;
  node: string;
  op: string;
  phase: Phase;
  liveBytes: number;
  byCategory: ByCategory;
  /** Graph inputs live here (token ids, a past KV cache): the caller allocates them, not the runtime's arena. */
  callerBytes: number;
  source: SourceRef | null;
}

export interface PlanFigures {
  /** Peak with perfect reuse of freed buffers (the live-bytes peak of activations + the rest). */
  idealPeakBytes: number;
  /** Arena size of a greedy-by-size offset plan over the same intervals. */
  offsetPlanBytes: number;
  /** offsetPlanBytes - idealPeakBytes over offsetPlanBytes. */
  fragmentation: number;
}

export interface MeasuredNode {
  node: string;
  op: string;
  durationUs: number;
  outputBytes: number;
  inUseBytes: number;
  source: SourceRef | null;
}

export interface MeasuredFigures {
  ep: string;
  peakBytes: number;
  arenaHeldBytes: number;
  wallMs: number;
  perNode: MeasuredNode[];
  [extra: string]: unknown;
}

export interface Profile {
  schema: 'memlens.profile/1';
  source: string;
  entry: string | null;
  settings: {
    mode: Mode;
    batch: number;
    seq: number;
    dtype: Precision;
    optimizer: OptimizerKind;
    dims: Record<string, number>;
  };
  params: number;
  trainableParams: number;
  peak: PeakInfo;
  breakdown: ByCategory;
  totals: {
    weightBytes: number;
    kvCacheBytes: number;
    savedActivationBytes: number;
    gradientBytes: number;
    optimizerStateBytes: number;
  };
  lines: LineFigures[];
  timeline: TimelinePoint[];
  plan: PlanFigures;
  unknownTensors: number;
  warnings: string[];
  measured?: MeasuredFigures | TorchMeasuredFigures;
}

export function emptyByCategory(): ByCategory {
  return { weights: 0, activations: 0, kvCache: 0, gradients: 0, optimizerState: 0, inputs: 0, outputs: 0, other: 0 };
}
