// Metadata keys the TypeScript tracer writes into the ONNX graph for the memory engine.
// Source locations use the shared keys of extension/engine/metadata-keys.ts (memlens.file,
// memlens.line, memlens.column, memlens.scope); the keys below describe what the model API's
// markers did. Node keys live in NodeProto.metadata_props, model keys in ModelProto.metadata_props.

// ---- Node metadata ----

/**
 * Activation checkpointing: region id (decimal string, unique per trace) on every node that runs
 * inside `checkpoint(fn)` or inside the forward of a module marked with `checkpoint(module)`.
 * Nested regions: the innermost id. A region keeps only its inputs for backward and recomputes
 * the rest; the engine reads the region's nodes to estimate saved bytes and recompute cost.
 */
export const TRACE_CHECKPOINT = 'memlens.checkpoint';

/**
 * Activation offload: region id on every node inside `offload(fn)` (or an offloaded module).
 * Tensors those nodes save for backward live in host (CPU) memory until backward.
 */
export const TRACE_OFFLOAD = 'memlens.offload';

/**
 * KV cache: on the node that produces a layer's present key/value cache (the tensor holding every
 * cached position after this step), which output is which: one item per node output, comma-
 * separated, `key`, `value` or empty. A one-output node carries just `key` or `value`; a fused
 * GroupQueryAttention carries `,key,value`. Those outputs are graph outputs named
 * `present.<layer>.key` / `present.<layer>.value`.
 */
export const TRACE_KV = 'memlens.kv';
/** KV cache: the decoder layer index (decimal string) on the same nodes as TRACE_KV. */
export const TRACE_KV_LAYER = 'memlens.kv.layer';

/**
 * Weight quantization: on the nodes that dequantize or consume a quantized weight
 * (DequantizeLinear, Cast/Mul group dequant, com.microsoft MatMulNBits): `<kind>` or
 * `<kind>/g<groupSize>` (`int8`, `int8/g128`, `int4/g32`, `fp8`), kind from `quantize()`.
 */
export const TRACE_QUANT = 'memlens.quant';
/** Weight quantization: the float parameter name that the quantized initializers replace. */
export const TRACE_QUANT_PARAM = 'memlens.quant.param';

// ---- Model metadata (JSON values) ----

/** Name of the traced entry. */
export const MODEL_ENTRY = 'memlens.entry';
/** `infer` or `train`, as the entry declares. */
export const MODEL_MODE = 'memlens.mode';
/**
 * JSON array of initializer names that are model parameters (weights, biases, embeddings),
 * trainable or frozen, each listed once (a tied weight appears under its first name only).
 * Initializers in neither this list nor MODEL_BUFFERS are constants (shapes, axes, scalars).
 */
export const MODEL_PARAMETERS = 'memlens.parameters';
/** JSON array: the subset of MODEL_PARAMETERS with requiresGrad = false (no grads, no optimizer state). */
export const MODEL_FROZEN = 'memlens.frozen';
/** JSON array of initializer names that are buffers: state that is not trained (BatchNorm running stats, rotary tables). */
export const MODEL_BUFFERS = 'memlens.buffers';
/** JSON object alias -> parameter name for tied weights (`{"lm_head.weight": "wte.weight"}`). */
export const MODEL_TIED = 'memlens.tied';
/**
 * JSON array of KV cache entries: `{layer, kind: 'key'|'value', past: input name | null,
 * present: output name, dtype}`. `past` is the graph input holding earlier positions in decode
 * entries (dims `[batch, kv_heads, past_sequence, head_dim]`), null in prefill.
 */
export const MODEL_KV_CACHE = 'memlens.kv_cache';
/** Name of the graph output that is the training loss (train entries). */
export const MODEL_LOSS = 'memlens.loss';
/** JSON object of checkpoint/offload region ids -> the module scope or line that opened them. */
export const MODEL_REGIONS = 'memlens.regions';
/** JSON array of the graph inputs as declared: `{name, shape, dtype, range?}`; `range` [low, high) bounds valid integer data (token ids). */
export const MODEL_INPUTS = 'memlens.inputs';
