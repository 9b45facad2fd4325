// How a model file declares what can be profiled: `entry({...})` exported under a name.
import type { DType, Dim } from '../../../extension/engine/graph';
import type { Module } from './module';
import type { Tensor } from './tensor';

export type Mode = 'infer' | 'train';

export interface InputSpec {
  shape: Dim[];
  dtype: DType;
  /** Valid integer range [low, high) for generated data (token ids < vocabulary size). */
  range?: [number, number];
}

/** A graph input: dims are numbers or symbols (`batch`, `sequence`) the engine binds from settings. */
export function input(shape: Dim[], dtype: DType = 'float32', options: { range?: [number, number] } = {}): InputSpec {
  return { shape, dtype, ...(options.range ? { range: options.range } : {}) };
}

export type ForwardResult = Tensor | Tensor[] | Record<string, Tensor>;

export type Config = Record<string, unknown>;

export interface EntrySpec<C extends object, M extends Module> {
  /** One line for menus and reports. */
  description?: string;
  /** `train`: the outputs include the loss (named `loss`); the engine adds backward and optimizer. */
  mode?: Mode;
  /** Published configuration; `traceFile(..., {config})` overrides fields of it. */
  config: C;
  model: (config: C) => M;
  inputs: Record<string, InputSpec> | ((config: C) => Record<string, InputSpec>);
  /** Default: `model.forward(...inputs in declaration order)`. */
  forward?: (model: M, inputs: Record<string, Tensor>, config: C) => ForwardResult;
}

export interface Entry<C extends object = Config, M extends Module = Module> extends EntrySpec<C, M> {
  readonly kind: 'memlens.entry';
}

export function entry<C extends object, M extends Module>(spec: EntrySpec<C, M>): Entry<C, M> {
  return { ...spec, kind: 'memlens.entry' };
}

export function isEntry(x: unknown): x is Entry {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'memlens.entry';
}
