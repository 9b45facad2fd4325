// The memory model's records: the steps of one inference or training step, and buffers live over
// intervals of those steps. Each buffer says what it holds as typed data (a tensor name, a node
// position, a parameter); display text for it is made by buffer-label.ts alone.
import type { Category } from '../profile';
import type { SavedDecision } from './saved-rules';

/** One step of the sequence: a node's forward or backward, or the optimizer's update. */
export type Step =
  | { phase: 'forward' | 'backward'; node: number }
  | { phase: 'optimizer' };

/**
 * Where a buffer's bytes are attributed: a forward node (the producer, or a weight's first user;
 * the optimizer's state and temporaries go to their parameter's), or nothing (a weight no node reads).
 */
export type Owner =
  | { kind: 'node'; pos: number }
  | { kind: 'none' };

/** Bytes an op keeps for its backward that no graph tensor holds (statistics, masks, indices). */
export interface SavedExtra {
  /** Forward position of the op. */
  node: number;
  /** What the bytes are, from the op's rule (`mean, inverse std`). */
  item: string;
  /** The saved-for-backward rule that keeps them (saved-rules.ts). */
  rule: string;
}

export type RestoreHow = 'recomputed' | 'fetched';

/** What a buffer holds. */
export type BufferContent =
  /** A graph tensor, the root of its alias group (views and in-place outputs share it). */
  | { kind: 'tensor'; tensor: string }
  /** A SavedExtra held on the device from its forward to its backward step. */
  | { kind: 'saved'; extra: SavedExtra }
  /** Saved bytes back on the device for backward: recomputed (checkpointing) or fetched from host memory (offload). */
  | { kind: 'restored'; of: { kind: 'tensor'; tensor: string } | { kind: 'extra'; extra: SavedExtra }; how: RestoreHow }
  /** Bytes live for one step only. */
  | { kind: 'workspace'; use: WorkspaceUse }
  /**
   * The gradient of a tensor (an alias root); a parameter gradient when the tensor is a trainable
   * weight. `viewOf`: the Concat output whose whole gradient this `.grad` keeps as a view (grad-views.ts).
   */
  | { kind: 'gradient'; tensor: string; parameter: boolean; viewOf?: string }
  /** Optimizer state of one trainable parameter. */
  | { kind: 'optimizer'; parameter: string };

export type WorkspaceUse =
  /** A SavedExtra of a checkpointed op in its forward: dropped at once, recomputed for backward. */
  | { kind: 'checkpointed-extra'; extra: SavedExtra }
  /** oneDNN's blocked copies of a convolution's input, weight and result on CPU (torch-cpu-conv.ts). */
  | { kind: 'mkldnn-conv'; node: number }
  /** Temporaries of an op's backward beyond its outputs. */
  | { kind: 'backward'; node: number }
  /** Buffers of the loss that follows the graph (cross-entropy's log-probabilities and their gradient). */
  | { kind: 'loss'; item: 'log-probabilities' | 'log-probability gradient' }
  /** The optimizer update's temporaries: `count` fp32 tensors the size of `parameter` (the largest, or each with foreach). */
  | { kind: 'optimizer-step'; implementation: OptimizerImplementation; count: number; parameter: string };

export type BufferKind = BufferContent['kind'];

export interface BufferSpan {
  bytes: number;
  category: Category;
  /** First and last step (inclusive) the buffer is live. */
  start: number;
  end: number;
  owner: Owner;
  /** Live for the whole step sequence (weights, inputs, optimizer state). */
  persistent: boolean;
}

export type Buffer = BufferSpan & BufferContent;

export interface BufferModel {
  steps: Step[];
  buffers: Buffer[];
  /** Saved-for-backward decision per forward position (training only). */
  saved: Map<number, SavedDecision>;
  /** Tensors produced by nodes and kept on the device for backward (training). */
  savedTensors: Set<string>;
  trainable: Set<string>;
  params: { count: number; trainableCount: number };
  warnings: string[];
}

/** torch.optim's implementations of one update: a Python loop per parameter, _foreach ops over all, or one fused kernel. */
export type OptimizerImplementation = 'single-tensor' | 'foreach' | 'fused';

/** How the training step runs, each field handled by the pass that owns it (optimizer-state.ts, gradients.ts). */
export interface TrainingStep {
  /** `steady`: the optimizer state exists before the step; `first`: step() creates it. */
  optimizerState: 'steady' | 'first';
  /**
   * `set-to-none`: parameter gradients are made in backward and dropped after the update;
   * `zero`: zero_grad(set_to_none=False) keeps the previous step's gradients through the forward.
   */
  gradients: 'set-to-none' | 'zero';
  /** The update's temporaries follow the optimizer's implementation. */
  implementation: OptimizerImplementation;
  /** Major version of the PyTorch whose optimizer runs (temporaries differ between 1.x and 2.x); null when unknown. */
  torchMajor: number | null;
}

export const STEADY_STATE: TrainingStep = { optimizerState: 'steady', gradients: 'set-to-none', implementation: 'single-tensor', torchMajor: null };

export interface BufferOptions {
  /** Initializer names that are frozen (no gradient, no optimizer state). */
  frozen: Set<string>;
  /** Initializer names that are parameters, when the producer lists them; else every float weight. */
  parameters?: Set<string> | null;
  /**
   * Whether two tensors have the same shape as ONNX Runtime sees it when it plans memory: from
   * the graph alone, before input dims are bound. Its planner reuses an input in place only then.
   */
  sameStaticShape?: (a: string, b: string) => boolean;
  /** The KV cache lives in host memory and is streamed in one layer at a time (inference). */
  kvOffload?: boolean;
  /** The training step variant (training only); from the settings when absent. */
  trainingStep?: TrainingStep;
  /** The script's loss, when the export bridge saw it and MemLens models it. */
  loss?: 'cross-entropy';
  /** The script's optimizer implementation, when the export bridge saw it. */
  scriptOptimizer?: OptimizerImplementation;
  /** Major version of the PyTorch that exported the model (a .py model): some saved tensors differ by version. */
  torchMajor?: number;
}

/** The forward position a buffer is attributed to, or null. */
export function ownerPos(b: BufferSpan): number | null {
  return b.owner.kind === 'node' ? b.owner.pos : null;
}

/** Owner of bytes attributed to node `pos` when there is one (`undefined`: none). */
export function nodeOwner(pos: number | undefined): Owner {
  return pos === undefined ? { kind: 'none' } : { kind: 'node', pos };
}

/** Whether the buffer is live at `step`. */
export function liveAt(b: BufferSpan, step: number): boolean {
  return b.bytes > 0 && b.start <= step && step <= b.end;
}
