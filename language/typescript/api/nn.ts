// MemLens model API: `import * as nn from 'memlens/nn'`.
//
// Write a model as in PyTorch: subclass `Module`, assign layers and `Parameter`s to fields in the
// constructor (they are registered by field name; arrays of modules are named `blocks.0`, ...),
// and write `forward(...)` over `Tensor`s. Tracing runs forward on symbolic tensors (shapes and
// dtypes, no data) and records an ONNX graph whose nodes remember the line that made them.
//
// Declaring what can be profiled (static discovery reads these without running the file):
//
//   export const gpt2 = nn.entry({
//     description: 'GPT-2 small, prefill',        // optional, shown in menus
//     mode: 'infer',                               // or 'train': forward returns the loss
//     config: GPT2_SMALL,                          // published config; tools may override fields
//     model: (cfg) => new GPT2(cfg),
//     inputs: (cfg) => ({ input_ids: nn.input(['batch', 'sequence'], 'int64', { range: [0, cfg.vocab] }) }),
//     forward: (model, { input_ids }, cfg) => model.forward(input_ids),  // optional
//   });
//
// Every exported `entry(...)` is an entry, selected by its export name (`--entry gpt2`). Also
// accepted: an exported class extending Module with `static inputs = {...}` (and an optional
// `static config`, passed to its constructor), or an exported function returning such a module.
// Input dims are numbers or symbols: `batch`, `sequence`, and `past_sequence` for the cached
// positions of a decode step; the engine binds them from its settings.
//
// Markers for memory techniques (each visible in the traced graph, see trace-keys.ts):
// `checkpoint(fn | module)`, `offload(fn | module)`, `quantize(module, 'int8' | 'int4' | 'fp8',
// {groupSize})`, `new KVCache({..., dtype: 'float16' | 'int8' | 'fp8'})`, and per-module
// `module.to(dtype)`, `module.freeze()` / `param.requiresGrad = false`.

export { Tensor } from './tensor';
export { Module, Parameter, Buffer, Sequential } from './module';
export type { Init } from './module';
export { Linear, Embedding } from './linear';
export type { QuantKind, QuantSpec } from './linear';
export {
  LayerNorm, RMSNorm, Conv2d, BatchNorm2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d,
  Dropout, GELU, SiLU, ReLU, Softmax, Flatten,
} from './layers';
export {
  matmul, add, mul, concat, cat, split, chunk, where, softmax, relu, silu, gelu, dropout,
  causalMask, scaledDotProductAttention, repeatKv,
} from './functional';
export { RotaryEmbedding, applyRotary } from './rotary';
export { causalAttention } from './attention';
export type { AttentionOptions, AttentionImpl } from './attention';
export { KVCache, positionIds } from './kv-cache';
export type { KVCacheOptions, KvDtype } from './kv-cache';
export { crossEntropy } from './loss';
export { checkpoint, offload, quantize } from './markers';
export { entry, input } from './entry';
export type { Entry, EntrySpec, InputSpec, Mode, Config, ForwardResult } from './entry';
