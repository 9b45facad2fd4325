// A model measured by PyTorch itself (`memlens profile model.py --run`): the `measured` variant
// with `runtime: 'torch'`. PyTorch is the reference for training, where ONNX Runtime runs no
// backward. Plain data, produced by extension/analysis/measure-torch.ts.
import type { Mode } from './settings';

export type TorchPhase = 'zero_grad' | 'forward' | 'loss' | 'backward' | 'optimizer' | 'script';

/** Where live bytes at the measured peak are booked when no line of model code made them. */
export type TorchBucket =
  | 'parameters' | 'buffers' | 'inputs' | 'gradients' | 'optimizerState'
  /** Allocated by a backward node whose forward op has no line of model code. */
  | 'backward'
  /** Optimizer temporaries (its persistent state is `optimizerState`). */
  | 'optimizer'
  | 'other';

export interface TorchLineFigures {
  /** Absolute path; 1-based line. */
  file: string;
  line: number;
  /** Bytes live at the measured peak that this line allocated, forward and backward. */
  bytes: number;
  forwardBytes: number;
  /** Made by the backward of this line's ops (autograd nodes joined to their forward op). */
  backwardBytes: number;
}

export interface TorchStepFigures {
  /** 0-based; step 0 of a training run is the first step (optimizer state created in step()). */
  step: number;
  peakBytes: number;
  phase: TorchPhase | null;
  /** CUDA only: the caching allocator's reserved bytes (segments) at most during the step. */
  reservedBytes?: number;
}

export interface TorchComponent {
  label: string;
  estimatedBytes: number;
  measuredBytes: number;
  /** (estimated - measured) / measured, percent; 0 when both are 0. */
  differencePct: number;
}

export interface TorchComparison {
  /** The estimate's peak against the measured steady-state step (training) or forward (inference). */
  estimatedPeakBytes: number;
  measuredPeakBytes: number;
  differencePct: number;
  /** Within TORCH_TARGET_PCT of the measurement. A miss is reported as such: no cause is guessed. */
  withinTarget: boolean;
  components: TorchComponent[];
  /** One line each, for the CLI and the editor. */
  summary: string[];
}

export interface TorchMeasuredFigures {
  runtime: 'torch';
  /** Where it ran, as readers print it: `torch-cpu`, `torch-cuda`. */
  ep: string;
  device: 'cpu' | 'cuda';
  torchVersion: string;
  mode: Mode;
  /** Whose step ran: the script's own loop, or one MemLens wrote (loss and optimizer below). */
  step: { source: 'script' | 'memlens'; optimizer: string | null; loss: string | null; zeroGrad: 'set_to_none' | null };
  steps: TorchStepFigures[];
  /** The largest step peak, with its step and phase. */
  peakBytes: number;
  peakStep: number;
  peakPhase: TorchPhase | null;
  /** CUDA: reserved bytes at most in the peak step; null on CPU (its allocator caches nothing). */
  reservedBytes: number | null;
  /** Bytes alive when the measurement began (they are part of every step's figure). */
  baseline: Record<'parameters' | 'buffers' | 'inputs' | 'optimizerState' | 'gradients', number>;
  /** After the run, each storage once: AdamW's scalar step counters apart from its moments. */
  totals: { parameterBytes: number; bufferBytes: number; gradientBytes: number; optimizerStateBytes: number; optimizerStepCounterBytes: number };
  /** Live bytes at the peak: lines plus buckets sum to peakBytes. */
  atPeak: { lines: TorchLineFigures[]; buckets: Partial<Record<TorchBucket, number>> };
  /** Mean wall time per measured step, profiling included. */
  wallMs: number;
  comparison: TorchComparison | null;
  /** Why there is no comparison, when there is none. */
  noComparison: string | null;
  notes: string[];
}

/** Estimate and measurement agree when within this share of the measured figure. */
export const TORCH_TARGET_PCT = 5;

export function isTorchMeasured<T extends object>(m: T | TorchMeasuredFigures | undefined): m is TorchMeasuredFigures {
  return m !== undefined && (m as { runtime?: unknown }).runtime === 'torch';
}

/** The measured figures of one source line (paths compared as given: both sides are absolute). */
export function torchLineAt(m: TorchMeasuredFigures, file: string, line: number): TorchLineFigures | null {
  return m.atPeak.lines.find((l) => l.line === line && l.file === file) ?? null;
}
