// The profile: the engine's one output, plain data, serialised as schema `memlens.profile/1`.
import type { TorchMeasuredFigures } from './measured-torch';
import type { OrtHeldFigures } from './ort/held-figures';
import type { IfBranch, Mode, OptimizerKind, Precision } from './settings';

export type Phase = 'forward' | 'backward' | 'optimizer';

export type Category =
  | 'weights' | 'activations' | 'kvCache' | 'gradients' | 'optimizerState' | 'optimizerStep' | 'inputs' | 'outputs' | 'other';

/** `optimizerStep`: the update's fp32 temporaries (optimizer-state.ts), live during the optimizer step only. */
export const CATEGORIES: readonly Category[] = [
  'weights', 'activations', 'kvCache', 'gradients', 'optimizerState', 'optimizerStep', 'inputs', 'outputs', 'other',
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
  /** Bytes attributed to this line that are live at the peak (its weights among them). */
  peakBytes: number;
  /** `peakBytes` by category: what the line's figure at the peak is made of. */
  peakByCategory: ByCategory;
  /** Bytes this line's nodes save for backward (training). */
  savedBytes: number;
  /** KV-cache bytes this line produces. */
  kvBytes: number;
  /** How many times the line ran (a line in a loop over 32 layers reports 32). */
  repeats: number;
  /** `bytes / repeats`, rounded: what one call of the line produces (the mean when its calls differ). */
  perCallBytes: number;
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
  /** Bytes the runtime's allocator had in use after the node ran. */
  inUseBytes: number;
  source: SourceRef | null;
}

/** How a run's peak was read: the arena's own peak, the largest in-use figure after a node, or process RSS growth. */
export type MeasuredPeakSource = 'arena-peak' | 'node-in-use' | 'rss-delta';

/** One session's figures in brief (the default-optimised session beside the per-node one). */
export interface MeasuredSession {
  level: 'disabled' | 'all';
  peakBytes: number;
  peakSource: MeasuredPeakSource;
  arenaHeldBytes: number;
  wallMs: number;
  nodeEvents: number;
}

/** The estimate beside the measurement at the peak (runner/compare.ts). */
export interface MeasuredComparison {
  estimatedPeakBytes: number;
  measuredPeakBytes: number;
  /** (measured - estimated) / measured, in percent: positive when the estimate is below measured. */
  differencePct: number;
  withinTarget: boolean;
  /** Within target, or brought within it by notes computed from the estimate's own figures. */
  explained: boolean;
  /** One line per finding. */
  summary: string[];
  /**
   * The estimate re-analysed with the branches the run took pinned, where the run took another
   * branch than the one the estimate sized; the static estimate above stays the bound.
   */
  pinned?: PinnedComparison;
}

export interface PinnedComparison {
  /** Each If whose run took the other branch: the branch sized, the branch that ran. */
  branches: { node: string; sized: IfBranch; ran: IfBranch }[];
  /** The simulated arena in-use peak of the re-analysed estimate (its ideal plan without a simulation). */
  estimatedPeakBytes: number;
  measuredPeakBytes: number;
  /** (measured - estimated) / measured, in percent. */
  differencePct: number;
  withinTarget: boolean;
}

/** A run on ONNX Runtime: per-node figures from a session with graph optimisations disabled. */
export interface OrtMeasured {
  runtime: 'onnxruntime';
  ep: string;
  peakBytes: number;
  arenaHeldBytes: number;
  /** Median wall time of one run, in milliseconds. */
  wallMs: number;
  perNode: MeasuredNode[];
  level: 'disabled';
  peakSource: MeasuredPeakSource;
  runs: number;
  /** The default-optimised session (what users get), when it ran. */
  optimised: MeasuredSession | null;
  /** Providers that did not run, with the reason. */
  providersSkipped: { ep: string; status: 'skipped' | 'failed'; reason: string }[];
  weightBytes: number;
  inputBytes: number;
  /** Weights filled with seeded random values because the model had no data for them. */
  materialised: { tensors: number; bytes: number } | null;
  rssPeakBytes: number | null;
  deviceMemory: { peakBytes: number; source: 'nvidia-smi' } | null;
  warnings: string[];
  /** If nodes whose branch the run's kernel events tell (optimisations disabled: nodes keep their names). */
  branches?: RanBranch[];
  comparison: MeasuredComparison | null;
}

/** What a measured run adds to a profile, by the runtime that ran the model (PyTorch runs join as `runtime: 'torch'`). */
export type MeasuredFigures = OrtMeasured;

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
    /** Whether `batch` and `seq` sized a dimension of the model (an image model has no sequence;
     * a fixed-shape file takes neither). Absent in profiles written before it existed. */
    sized?: { batch: boolean; seq: boolean; past?: boolean };
    /** Cached positions of a decode step, where `--past` sized the model's cache inputs. */
    past?: number;
    /** Sizes the model's own code set (a Python script's call) because the user set none. */
    fromCode?: ('batch' | 'seq')[];
  };
  params: number;
  trainableParams: number;
  peak: PeakInfo;
  breakdown: ByCategory;
  totals: {
    weightBytes: number;
    /** The KV cache after the step: what a decode step writes (present), else what it reads. */
    kvCacheBytes: number;
    /**
     * The cache a decode step reads (past inputs) while it writes `kvCacheBytes`: both are live
     * during the step, so the KV at the peak is at most their sum. 0 without a past cache.
     */
    kvPastBytes?: number;
    savedActivationBytes: number;
    gradientBytes: number;
    optimizerStateBytes: number;
  };
  lines: LineFigures[];
  timeline: TimelinePoint[];
  plan: PlanFigures;
  unknownTensors: number;
  warnings: string[];
  /**
   * What ONNX Runtime holds for one inference pass of the measured session (ONNX inference
   * profiles only): planner requests replayed through its BFC arena. `plan` stays the lower bound.
   */
  ortHeld?: OrtHeldFigures;
  /**
   * The runner's default session (graphOptimizationLevel 'all', memory pattern and prepacking on):
   * the graph ONNX Runtime wrote for it (runner/optimised-graph.ts) through the same simulation.
   * Present when an ONNX Runtime run or `--optimised` asked for it and ORT could write the graph.
   */
  ortOptimised?: OrtHeldFigures;
  /** If nodes (any graph) and the branch the estimate sizes each by; absent when the model has none it chose for. */
  branches?: EstimatedBranch[];
  measured?: MeasuredFigures | TorchMeasuredFigures;
}

/** The branch an If is sized by, and why: a folded condition, a pin, the only one that fits, the larger. */
export interface EstimatedBranch {
  node: string;
  taken: IfBranch;
  why: 'condition' | 'pinned' | 'only-valid' | 'larger';
}

/** The branch an If ran in a measured run, told by the kernel events of the branch's own nodes. */
export interface RanBranch {
  node: string;
  ran: IfBranch;
  /** Nodes of that branch (and only of it) that had kernel events, the first few. */
  seen: string[];
}

export function emptyByCategory(): ByCategory {
  return { weights: 0, activations: 0, kvCache: 0, gradients: 0, optimizerState: 0, optimizerStep: 0, inputs: 0, outputs: 0, other: 0 };
}
