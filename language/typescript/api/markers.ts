// Markers that memory rewrites insert: they leave the computation as it is and tag the traced
// nodes (checkpoint, offload) or swap a weight's storage for quantized initializers (quantize).
import { MemlensError } from '../../../extension/engine/errors';
import { Linear, QuantKind } from './linear';
import { Module } from './module';
import { activeGraph } from './trace-graph';

/**
 * Activation checkpointing. `checkpoint(() => block.forward(x))` tags every node the function
 * emits with a region id (TRACE_CHECKPOINT); `checkpoint(module)` does so for every call of the
 * module's forward. Returns what the function returns, or the module.
 */
export function checkpoint<T>(fn: () => T): T;
export function checkpoint<M extends Module>(module: M): M;
export function checkpoint<T>(target: (() => T) | Module): T | Module {
  return mark('checkpoint', target);
}

/** Activation offload to host memory: like `checkpoint`, tagging TRACE_OFFLOAD. */
export function offload<T>(fn: () => T): T;
export function offload<M extends Module>(module: M): M;
export function offload<T>(target: (() => T) | Module): T | Module {
  return mark('offload', target);
}

function mark<T>(kind: 'checkpoint' | 'offload', target: (() => T) | Module): T | Module {
  if (target instanceof Module) {
    target.markers[kind] = true;
    return target;
  }
  if (typeof target !== 'function') throw new MemlensError(`${kind}() takes a function or a module`);
  const g = activeGraph();
  return g ? g.withRegion(kind, target) : target();
}

/**
 * Weight quantization of every Linear in `module` (or the Linear itself): int8 (per output
 * channel, or per `groupSize` inputs), int4 (blocks of `groupSize`, default 32, as
 * com.microsoft MatMulNBits) or fp8 (e4m3, one scale). Returns the module.
 */
export function quantize<M extends Module>(module: M, kind: QuantKind, options: { groupSize?: number } = {}): M {
  const linears = module.namedModules().map(([, m]) => m).filter((m): m is Linear => m instanceof Linear);
  if (linears.length === 0) throw new MemlensError(`quantize: ${module.constructor.name} contains no Linear layer`);
  for (const l of linears) l.quantization = { kind, ...(options.groupSize !== undefined ? { groupSize: options.groupSize } : {}) };
  return module;
}
