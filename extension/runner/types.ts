// Plain data exchanged between the caller, the isolated run process and the comparison.
// Everything here crosses a process boundary as JSON, so no class instances or typed arrays.
import type { DType } from '../engine/graph';
import type { RanBranch } from '../engine/profile';
import type { AnalysisSettings } from '../engine/settings';

export type ProviderName = 'cpu' | 'cuda' | 'webgpu' | 'dml' | 'coreml';
export type ProviderChoice = 'auto' | ProviderName;

export const PROVIDER_CHOICES: readonly ProviderChoice[] = ['auto', 'cpu', 'cuda', 'webgpu', 'dml', 'coreml'];

export type ModelSource = { path: string } | { bytes: Uint8Array; name?: string };

export interface RunRequest {
  model: ModelSource;
  /** Execution provider; `auto` tries the best GPU provider present and falls back to CPU. */
  ep?: ProviderChoice;
  /** Runs per session; the first warms up and is left out of the median when there are more. */
  runs?: number;
  /**
   * The analysis settings: batch and seq bind the input dims that name them (the engine's alias
   * table, as for the estimate, so both describe the same shapes); defaults batch 1, seq 128.
   */
  settings?: Partial<AnalysisSettings>;
  /** Values for named symbolic dims; win over `settings`. */
  dims?: Record<string, number>;
  /** Seed for random inputs and materialised weights. */
  seed?: number;
  /** Also run the default-optimised session (what users get); on by default. */
  optimised?: boolean;
  /**
   * Fresh optimised sessions to measure (default 1). ORT's NCHWc transformer adds its
   * ReorderOutput nodes in the order of a hash map keyed by pointers, so the graph a session runs,
   * its execution order and its peak can differ from one session to the next.
   */
  optimisedSessions?: number;
}

/** What the worker needs: the model is always a file by then (bytes are written to a temp file). */
export interface WorkerRequest {
  modelPath: string;
  /** Directory that relative external-data locations resolve against; null when the model came as bytes. */
  baseDir: string | null;
  /** How the model is named in messages. */
  where: string;
  ep: ProviderChoice;
  runs: number;
  settings: Partial<AnalysisSettings>;
  dims: Record<string, number>;
  seed: number;
  optimised: boolean;
  optimisedSessions: number;
  memoryLimitBytes: number | null;
  workDir: string;
}

export type AttemptStatus = 'ran' | 'skipped' | 'failed';

export interface ProviderAttempt {
  ep: ProviderName;
  status: AttemptStatus;
  /** Why it was skipped or failed; empty when it ran. */
  reason: string;
}

export type InputFill = 'ids' | 'ones' | 'zeros' | 'random' | 'value';

export interface InputSpec {
  name: string;
  dtype: DType;
  shape: number[];
  fill: InputFill;
  /** Exclusive upper bound of ids for inputs that index an embedding table. */
  idLimit?: number;
  /** The value every element takes when `fill` is `value` (from `--input name=V`). */
  value?: number;
  bytes: number;
}

/** One node's figures from ORT's profiler (one run; executions inside loops are summed). */
export interface NodeMeasurement {
  node: string;
  op: string;
  provider: string;
  /** ORT node_index within its graph. */
  nodeIndex: number | null;
  durationUs: number;
  /** Times the node ran in this run (more than 1 inside Loop/Scan bodies). */
  executions: number;
  /** `output_size`: bytes of the node's outputs. */
  outputBytes: number;
  /** `activation_size`: bytes of the node's non-initializer inputs. */
  activationBytes: number;
  /** `parameter_size`: bytes of initializer inputs that were not prepacked. */
  parameterBytes: number;
  /** Arena figures after the node ran; null when the arena is off or the provider has none. */
  inUseBytes: number | null;
  /** Bytes requested in use (before the arena rounds each allocation up). */
  requestedInUseBytes: number | null;
  inUseDeltaBytes: number | null;
  inUsePeakBytes: number | null;
  arenaHeldBytes: number | null;
}

export type PeakSource = 'arena-peak' | 'node-in-use' | 'rss-delta';

export type OptimisationLevel = 'disabled' | 'all';

export interface SessionFigures {
  level: OptimisationLevel;
  ep: ProviderName;
  sessionCreateMs: number;
  /** Wall time of each run in order; the first is the warm-up. */
  runWallMs: number[];
  /** Median over the runs after the warm-up (the only run when there is one). */
  wallMs: number;
  /** Whether `wallMs` was timed with profiling on (attribution) or in a plain session (optimised). */
  wallTimeProfiled: boolean;
  /** Median run time of the profiled session. */
  profiledWallMs: number;
  peakBytes: number;
  peakSource: PeakSource;
  arenaHeldBytes: number | null;
  /** Process RSS growth from before the (timing) session was created to after its runs. */
  rssDeltaBytes: number;
  /** Per-node figures of the last run, in execution order. */
  nodes: NodeMeasurement[];
}

export interface DeviceMemory {
  peakBytes: number;
  source: 'nvidia-smi';
}

export interface RunResult {
  /** Provider that ran the model. */
  ep: ProviderName;
  /** Every provider considered, in the order tried. */
  providers: ProviderAttempt[];
  /** Optimisations disabled, memory pattern off, no prepacking: one event per graph node. */
  attribution: SessionFigures;
  /** Default optimisation level and session options: what users get. */
  optimised: SessionFigures | null;
  /** The arena peak of each fresh optimised session measured, `optimised` first; empty without one. */
  optimisedSessionPeaks: number[];
  inputs: InputSpec[];
  /** Sum of all initializers' declared bytes. */
  weightBytes: number;
  /** Initializers filled with seeded random values because they had no data here. */
  materialised: { tensors: number; bytes: number } | null;
  /** Peak RSS of the run process (VmHWM), as sampled by the caller. */
  rssPeakBytes: number | null;
  deviceMemory: DeviceMemory | null;
  runs: number;
  /** If nodes whose branch the attribution session's kernel events tell (runner/branches-ran.ts). */
  branches: RanBranch[];
  warnings: string[];
}

/** Worker -> caller messages. */
export type WorkerMessage =
  | { type: 'stage'; stage: string }
  | { type: 'result'; result: Omit<RunResult, 'rssPeakBytes' | 'deviceMemory'> }
  | { type: 'error'; message: string; userError: boolean };

/** Caller -> worker message. */
export interface WorkerStart {
  type: 'run';
  request: WorkerRequest;
}
