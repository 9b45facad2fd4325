// What a user's script does in its first training step, as the export bridge saw it when it ran
// the script: the call of the model it captured, the optimizer built over the model's
// parameters, and the tensor `.backward()` was called on. Plain data for the model's metadata
// (SCRIPT_STEP_KEY) and for settings the user left to the script.
import type { OptimizerKind } from '../../extension/engine/settings';

export interface CapturedCall {
  /** Class of the module whose first top-level call was captured. */
  className: string;
  /** Where the script called it (absolute path, 1-based line); null when no frame was model code. */
  file: string | null;
  line: number | null;
  /** Leading dim of the call's first tensor, before a --batch given by the user is applied. */
  batch: number | null;
}

export interface ScriptOptimizer {
  /** torch.optim class name, e.g. AdamW. */
  class: string;
  /** MemLens's name for it; null when MemLens has no state rule for the class. */
  kind: Exclude<OptimizerKind, 'none' | 'adam8bit'> | null;
  implementation: 'single-tensor' | 'foreach' | 'fused';
}

export interface ScriptStep {
  call: CapturedCall;
  optimizer: ScriptOptimizer | null;
  /** The first tensor the script called `.backward()` on; null when it never did before stopping. */
  loss: { shape: number[]; gradFn: string | null } | null;
}
