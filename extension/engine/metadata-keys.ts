// NodeProto.metadata_props keys that carry source locations.

/** Written by MemLens's own tracers (TypeScript model API, Python export bridge). */
export const MEMLENS_FILE = 'memlens.file';
export const MEMLENS_LINE = 'memlens.line';
export const MEMLENS_COLUMN = 'memlens.column';
/** Module path of the call, dot-separated (`blocks.3.attn`). */
export const MEMLENS_SCOPE = 'memlens.scope';

/** Written by torch.onnx.export(dynamo=True) in torch >= 2.5. */
export const TORCH_STACK_TRACE = 'pkg.torch.onnx.stack_trace';
export const TORCH_NAME_SCOPES = 'pkg.torch.onnx.name_scopes';

/** Model metadata: JSON array of initializer names that are frozen (no gradient, no optimizer state). */
export const FROZEN_KEY = 'memlens.frozen';

/**
 * Node metadata: id of the activation-checkpointing region the node belongs to. Tensors saved
 * inside a region are dropped after the forward and recomputed at the region's backward; only
 * the region's inputs stay saved.
 */
export const CHECKPOINT_KEY = 'memlens.checkpoint';
/** Node metadata: id of a region whose saved activations are offloaded to host memory until backward. */
export const OFFLOAD_KEY = 'memlens.offload';
/** Model metadata: `layer` when the KV cache lives in host memory, streamed in one layer at a time. */
export const KV_OFFLOAD_KEY = 'memlens.kv.offload';

/** Model metadata: JSON array of the initializers that are parameters (trainable or frozen); the
 * rest are buffers and constants. Absent: every float weight counts as a parameter. Written by
 * the Python export bridge from `model.named_parameters()` (tied weights under every name). */
export const PARAMETERS_KEY = 'memlens.parameters';

/** Model metadata: JSON of language/python/script-step.ts's ScriptStep: the call of the model the
 * user's script made, the optimizer it built and what it called `.backward()` on. */
export const SCRIPT_STEP_KEY = 'memlens.script.step';
/** The PyTorch version that exported a .py model. */
export const TORCH_VERSION_KEY = 'memlens.torch_version';
/** Node metadata: 'true' on the nodes of a PyTorch module built with `inplace=True` (nn.ReLU,
 * nn.SiLU, ...), written by the Python export bridge; eager PyTorch overwrites the input there. */
export const INPLACE_KEY = 'memlens.inplace';
