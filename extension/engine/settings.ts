// Analysis settings: what the user asks for (CLI flags, editor settings), normalised once.

// The value lists are the one source for the CLI's flags, the editor's settings and the
// manifest's enums (a test holds package.json to them).
export const MODES = ['infer', 'train'] as const;
export const PRECISIONS = ['fp32', 'fp16', 'bf16'] as const;
export const OPTIMIZERS = ['adamw', 'adam', 'sgd', 'sgd-momentum', 'adam8bit', 'none'] as const;

export type Mode = (typeof MODES)[number];
export type Precision = (typeof PRECISIONS)[number];
export type OptimizerKind = (typeof OPTIMIZERS)[number];
export const DEVICES = ['cuda', 'cpu'] as const;
export type Device = (typeof DEVICES)[number];
/** Which training step: the first (optimizer state made inside step()) or any later one. */
export const TRAIN_STEPS = ['steady', 'first'] as const;
export type TrainStepKind = (typeof TRAIN_STEPS)[number];
/** zero_grad(set_to_none=True) frees the gradients before the forward; False zeroes and keeps them. */
export const ZERO_GRADS = ['set-to-none', 'zero'] as const;
export type ZeroGrad = (typeof ZERO_GRADS)[number];
/** The two branches of an ONNX If, by their attribute names. */
export const IF_BRANCHES = ['then_branch', 'else_branch'] as const;
export type IfBranch = (typeof IF_BRANCHES)[number];
/** How `--branch NODE=then|else` and `memlens.branches` write a branch. */
export type BranchWord = 'then' | 'else';
export const branchWord = (b: IfBranch): BranchWord => (b === 'then_branch' ? 'then' : 'else');
/** The branch a word names (`then`, `else`, or the attribute name itself); undefined for any other. */
export function branchOfWord(word: unknown): IfBranch | undefined {
  if (word === 'then' || word === 'then_branch') return 'then_branch';
  if (word === 'else' || word === 'else_branch') return 'else_branch';
  return undefined;
}

export interface AnalysisSettings {
  mode: Mode;
  batch: number;
  seq: number;
  /**
   * Cached positions of a decode step (`--past`): sizes the dims of the cache read in
   * (`past_sequence`...), and with `seq` the dims over both (`total_sequence`...). Absent: the
   * past dims take the sequence length, as they did before the setting existed, with a warning.
   */
  past?: number;
  /** Compute dtype; in training fp16/bf16 means mixed precision with fp32 master weights. */
  dtype: Precision;
  optimizer: OptimizerKind;
  /**
   * Extra symbolic dims, applied before batch/seq aliases: by name (`--dim name=N`), or by input
   * and axis (`--dim input:0=N`) for a dim that has no name.
   */
  dims: Record<string, number>;
  /**
   * Which of batch and seq the user set; the others are defaults, and dims bound from them are
   * reported. Absent: all were given (callers that choose every setting themselves).
   */
  explicit?: readonly ('batch' | 'seq')[];
  /**
   * Values of one-element graph inputs (`--input sr=16000`): folded like constants, so an If on
   * them takes its branch, and fed to measured runs.
   */
  inputValues?: Record<string, number>;
  /**
   * The branch each named If runs (`--branch If_32=else`), for an If whose condition is not known
   * statically: it is sized by that branch instead of the larger one. A folded condition wins.
   */
  branches?: Record<string, IfBranch>;
  /**
   * Settings that sized the model before it reached the engine: a Python export runs the model at
   * the batch (and sequence length of token inputs) in use, so its graph holds them as fixed sizes.
   */
  sizedByExport?: readonly ('batch' | 'seq')[];
  /**
   * Sizes taken from the model's own code (a Python script's call, `(2, 128)`) because the user
   * set none; the header says so.
   */
  fromCode?: readonly ('batch' | 'seq')[];
  /**
   * Where the training step runs, for ops whose saved buffers differ by device (dropout keeps a
   * bool mask on CUDA, float noise on CPU). Absent: cuda.
   */
  device?: Device;
  /** Training: which step is modelled. Absent: steady. */
  step?: TrainStepKind;
  /** Training: what zero_grad() does with the previous step's gradients. Absent: set-to-none (PyTorch 2's default). */
  zeroGrad?: ZeroGrad;
}

export const DEFAULT_SETTINGS: AnalysisSettings = {
  mode: 'infer',
  batch: 1,
  seq: 128,
  dtype: 'fp32',
  optimizer: 'adamw',
  dims: {},
};

export function withDefaults(partial: Partial<AnalysisSettings>): AnalysisSettings {
  // Null-prototype dims: `constructor` or `__proto__` is a dim name like any other.
  const dims = Object.assign(Object.create(null) as Record<string, number>, DEFAULT_SETTINGS.dims, partial.dims ?? {});
  const branches = partial.branches ? { branches: Object.assign(Object.create(null) as Record<string, IfBranch>, partial.branches) } : {};
  return { ...DEFAULT_SETTINGS, ...partial, dims, ...branches };
}
