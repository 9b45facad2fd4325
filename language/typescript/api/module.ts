// Modules, parameters and buffers, registered PyTorch-style by attribute: a Module's own
// enumerable fields that hold a Parameter, a Buffer, a Module or an array of Modules are its
// state and children, named by attribute path (`blocks.3.attn.qkv.weight`).
import type { DType } from '../../../extension/engine/graph';
import { MemlensError } from '../../../extension/engine/errors';
import { Tensor } from './tensor';
import { activeGraph, TraceGraph } from './trace-graph';
import type { Rng } from '../../../extension/engine/seeded-random';

/** How a weight is initialised when a trace materialises weights. */
export type Init =
  | { kind: 'normal'; std: number; mean?: number }
  | { kind: 'uniform'; bound: number; center?: number }
  | { kind: 'constant'; value: number };

let defaultDtype: DType = 'float32';

/** Dtype new parameters get (the tracer sets it from the analysis settings before building). */
export function getDefaultDtype(): DType {
  return defaultDtype;
}

export function setDefaultDtype(d: DType): void {
  defaultDtype = d;
}

/** Standard normal by Box-Muller (two uniforms per value). */
function standardNormal(rng: Rng): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

export function sample(init: Init, count: number, rng: Rng): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    switch (init.kind) {
      case 'normal': out[i] = (init.mean ?? 0) + init.std * standardNormal(rng); break;
      case 'uniform': out[i] = (init.center ?? 0) + (rng() * 2 - 1) * init.bound; break;
      case 'constant': out[i] = init.value;
    }
  }
  return out;
}

/** A tensor of model state: declared by shape; bytes exist only when a trace materialises them. */
export abstract class StateTensor extends Tensor {
  readonly init: Init;
  constructor(shape: number[], options: { dtype?: DType; init?: Init } = {}) {
    super(null, '', [...shape], options.dtype ?? getDefaultDtype());
    this.init = options.init ?? { kind: 'normal', std: 0.02 };
  }

  get dims(): number[] {
    return this.shape as number[];
  }

  numel(): number {
    return this.dims.reduce((a, b) => a * b, 1);
  }

  /** Attaches to a trace under its registered name. */
  bind(g: TraceGraph, name: string): void {
    this.boundGraph = g;
    this.name = name;
  }

  unbind(): void {
    this.boundGraph = null;
  }
}

export class Parameter extends StateTensor {
  /** false: frozen (no gradient, no optimizer state). */
  requiresGrad: boolean;
  constructor(shape: number[], options: { dtype?: DType; init?: Init; requiresGrad?: boolean } = {}) {
    super(shape, options);
    this.requiresGrad = options.requiresGrad ?? true;
  }
}

/** Non-trained state (BatchNorm running statistics). */
export class Buffer extends StateTensor {}

type ForwardFn = (...args: never[]) => unknown;

/**
 * Base class of every layer and model. Subclasses define `forward`; calls to it run under the
 * module's scope so traced nodes carry `memlens.scope` = the module's path.
 */
export class Module {
  /** Set by `checkpoint(module)` / `offload(module)`: every forward call is a marker region. */
  markers: { checkpoint?: boolean; offload?: boolean } = {};

  constructor() {
    const forward = (this as unknown as { forward?: ForwardFn }).forward;
    if (typeof forward === 'function') {
      Object.defineProperty(this, 'forward', {
        value: (...args: never[]) => callModule(this, forward, args),
        enumerable: false,
        writable: true,
        configurable: true,
      });
    }
  }

  /** Direct children by attribute name; arrays of modules are named `name.i`. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value)) value.forEach((v, i) => { if (v instanceof Module) out.push([`${key}.${i}`, v]); });
    }
    return out;
  }

  /** Every module below (and including) this one, with its path; each instance once. */
  namedModules(prefix = '', seen = new Set<Module>()): [string, Module][] {
    if (seen.has(this)) return [];
    seen.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name, seen));
    return out;
  }

  private namedState<T extends StateTensor>(cls: abstract new (...a: never[]) => T): [string, T][] {
    const out: [string, T][] = [];
    const seen = new Set<T>();
    for (const [path, m] of this.namedModules()) {
      for (const [key, value] of Object.entries(m)) {
        if (value instanceof cls && !seen.has(value)) {
          seen.add(value);
          out.push([path ? `${path}.${key}` : key, value]);
        }
      }
    }
    return out;
  }

  /** Parameters by path; a parameter reachable twice (tied weights) is listed once, first path. */
  namedParameters(): [string, Parameter][] {
    return this.namedState(Parameter);
  }

  namedBuffers(): [string, Buffer][] {
    return this.namedState(Buffer);
  }

  /** Every path under which each parameter is reachable, tied aliases included. */
  parameterAliases(): Map<Parameter, string[]> {
    const out = new Map<Parameter, string[]>();
    for (const [path, m] of this.namedModules()) {
      for (const [key, value] of Object.entries(m)) {
        if (value instanceof Parameter) {
          const list = out.get(value) ?? [];
          list.push(path ? `${path}.${key}` : key);
          out.set(value, list);
        }
      }
    }
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Parameter count, tied weights once (PyTorch's `sum(p.numel() for p in m.parameters())`). */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.numel(), 0);
  }

  /** Per-module dtype: parameters and buffers below take `dtype`; layers cast inputs to it. */
  to(dtype: DType): this {
    for (const [, p] of this.namedParameters()) p.dtype = dtype;
    for (const [, b] of this.namedBuffers()) b.dtype = dtype;
    return this;
  }

  /** Freezes every parameter below (requiresGrad = false). */
  freeze(): this {
    for (const p of this.parameters()) p.requiresGrad = false;
    return this;
  }

  unfreeze(): this {
    for (const p of this.parameters()) p.requiresGrad = true;
    return this;
  }
}

function callModule(m: Module, forward: ForwardFn, args: never[]): unknown {
  const g = activeGraph();
  if (!g) return forward.apply(m, args);
  const scope = g.modulePaths.get(m) ?? g.scope;
  let run = () => g.withScope(scope, () => forward.apply(m, args));
  if (m.markers.checkpoint) {
    const inner = run;
    run = () => g.withRegion('checkpoint', inner);
  }
  if (m.markers.offload) {
    const inner = run;
    run = () => g.withRegion('offload', inner);
  }
  return run();
}

/** Children named by index (`0`, `1`, ...), run in order. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
  }

  override namedChildren(): [string, Module][] {
    return this.layers.map((m, i) => [String(i), m]);
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const layer of this.layers) {
      const f = (layer as unknown as { forward?: (t: Tensor) => Tensor }).forward;
      if (!f) throw new MemlensError(`Sequential: layer ${layer.constructor.name} has no forward`);
      y = f.call(layer, y);
    }
    return y;
  }
}
