// The graph a trace builds: nodes with source locations and scopes, initializers (shapes only
// unless materialised), graph inputs/outputs, and the marker regions open at each op.
import type { AttributeValue, DType, Dim, GraphNode, Initializer, Model, ValueInfo } from '../../../extension/engine/graph';
import { MEMLENS_COLUMN, MEMLENS_FILE, MEMLENS_LINE, MEMLENS_SCOPE } from '../../../extension/engine/metadata-keys';
import { MemlensError } from '../../../extension/engine/errors';
import { encodeValues } from '../../../extension/engine/onnx/raw-data';
import { seededRng, type Rng } from '../../../extension/engine/seeded-random';
import { callerLocation } from './source-location';
import { Tensor } from './tensor';
import type { KvRecord } from './kv-cache';
import { TRACE_CHECKPOINT, TRACE_OFFLOAD } from './trace-keys';

export const DEFAULT_OPSET = 17;
/** DequantizeLinear on float8 needs opset 19; traces that use fp8 weights are written at 19. */
export const FLOAT8_OPSET = 19;

export const attr = {
  int: (value: number): AttributeValue => ({ kind: 'int', value }),
  float: (value: number): AttributeValue => ({ kind: 'float', value }),
  ints: (value: number[]): AttributeValue => ({ kind: 'ints', value }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
  tensor: (dtype: DType, dims: number[], values: number[]): AttributeValue => ({
    kind: 'tensor',
    value: { name: '', dtype, dims, raw: encodeValues(dtype, values), external: false },
  }),
};

export interface OutputType {
  dtype: DType;
  shape: Dim[];
}

export type RegionKind = 'checkpoint' | 'offload';

export interface TraceGraphOptions {
  /** Generate weight bytes (seeded) instead of shapes only. */
  materialize: boolean;
  seed: number;
  /** Dropout and BatchNorm behave as in training. */
  training: boolean;
}

const REGION_KEYS: Record<RegionKind, string> = { checkpoint: TRACE_CHECKPOINT, offload: TRACE_OFFLOAD };

export class TraceGraph {
  readonly nodes: GraphNode[] = [];
  readonly initializers = new Map<string, Initializer>();
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly opsets: Record<string, number> = { '': DEFAULT_OPSET };
  readonly metadata: Record<string, string> = {};
  readonly rng: Rng | null;
  readonly training: boolean;
  /** Module paths of the forwards being run, outermost first. */
  private readonly scopes: string[] = [];
  private readonly regions: { kind: RegionKind; id: string }[] = [];
  /** Region id -> where it was opened, for MODEL_REGIONS. */
  readonly regionInfo: Record<string, { kind: RegionKind; scope: string; file?: string; line?: number }> = {};
  private regionCounter = 0;
  private readonly used = new Set<string>();
  private readonly constants = new Map<string, Tensor>();
  private readonly renames = new Map<string, string>();
  /** Graph inputs by name, to find a symbolic dim's runtime value. */
  readonly inputTensors: Tensor[] = [];
  /** Module instance -> its path in the traced model (`blocks.3.attn`). */
  readonly modulePaths = new Map<object, string>();
  needsFloat8 = false;
  /** KV cache tensors, in the order layers stored them. */
  readonly kvRecords: KvRecord[] = [];
  /** Initializers that hold quantized weights and their scales. */
  readonly quantizedState: string[] = [];

  constructor(readonly options: TraceGraphOptions) {
    this.rng = options.materialize ? seededRng(options.seed) : null;
    this.training = options.training;
  }

  get scope(): string {
    return this.scopes.length ? this.scopes[this.scopes.length - 1] : '';
  }

  withScope<T>(scope: string, fn: () => T): T {
    this.scopes.push(scope);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  withRegion<T>(kind: RegionKind, fn: () => T): T {
    const id = String(this.regionCounter++);
    const loc = callerLocation();
    this.regionInfo[id] = { kind, scope: this.scope, ...(loc ? { file: loc.file, line: loc.line } : {}) };
    this.regions.push({ kind, id });
    try {
      return fn();
    } finally {
      this.regions.pop();
    }
  }

  /** A fresh value name based on `base`. */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Appends one node; returns its outputs as tensors. */
  emit(
    opType: string,
    inputs: (Tensor | null)[],
    outputs: OutputType[],
    attributes: Record<string, AttributeValue> = {},
    options: { domain?: string; metadata?: Record<string, string>; outputNames?: string[] } = {},
  ): Tensor[] {
    for (const t of inputs) if (t && t.graph !== this) throw new MemlensError(`${opType}: a tensor from another trace was used`);
    const prefix = this.scope ? `/${this.scope}/` : '/';
    const nodeName = this.uniqueName(`${prefix}${opType}`);
    const outTensors = outputs.map((o, i) => new Tensor(this, this.uniqueName(options.outputNames?.[i] ?? `${nodeName}_output_${i}`), o.shape, o.dtype));
    const metadata: Record<string, string> = { [MEMLENS_SCOPE]: this.scope };
    const loc = callerLocation();
    if (loc) {
      metadata[MEMLENS_FILE] = loc.file;
      metadata[MEMLENS_LINE] = String(loc.line);
      metadata[MEMLENS_COLUMN] = String(loc.column);
    }
    for (const kind of ['checkpoint', 'offload'] as const) {
      for (let i = this.regions.length - 1; i >= 0; i--) {
        if (this.regions[i].kind === kind) {
          metadata[REGION_KEYS[kind]] = this.regions[i].id;
          break;
        }
      }
    }
    Object.assign(metadata, options.metadata ?? {});
    const domain = options.domain ?? '';
    if (domain && this.opsets[domain] === undefined) this.opsets[domain] = 1;
    this.nodes.push({
      name: nodeName,
      opType,
      domain,
      inputs: inputs.map((t) => (t ? t.name : '')),
      outputs: outTensors.map((t) => t.name),
      attributes,
      metadata,
    });
    return outTensors;
  }

  /** One-output convenience. */
  op(opType: string, inputs: (Tensor | null)[], out: OutputType, attributes: Record<string, AttributeValue> = {}, options: { domain?: string; metadata?: Record<string, string> } = {}): Tensor {
    return this.emit(opType, inputs, [out], attributes, options)[0];
  }

  /** A constant initializer with bytes, shared between identical uses. */
  constant(dtype: DType, dims: number[], values: number[]): Tensor {
    const key = `${dtype}|${dims.join(',')}|${values.join(',')}`;
    const hit = this.constants.get(key);
    if (hit) return hit;
    const name = this.uniqueName(`const_${dtype}_${values.length <= 4 ? values.join('_').replace(/[^0-9a-z_-]/gi, 'x') : this.constants.size}`);
    this.initializers.set(name, { name, dtype, dims, raw: encodeValues(dtype, values), external: false });
    const t = new Tensor(this, name, dims, dtype);
    this.constants.set(key, t);
    return t;
  }

  scalar(value: number, dtype: DType): Tensor {
    return this.constant(dtype, [], [value]);
  }

  int64s(values: number[]): Tensor {
    return this.constant('int64', [values.length], values);
  }

  /** Declares a weight initializer; bytes only when materialising (`fill` writes them). */
  addInitializer(name: string, dtype: DType, dims: number[], raw?: Uint8Array): void {
    if (this.initializers.has(name)) throw new Error(`internal: initializer ${name} declared twice`);
    this.used.add(name);
    const init: Initializer = { name, dtype, dims, external: false };
    if (raw) init.raw = raw;
    this.initializers.set(name, init);
  }

  addInput(name: string, dtype: DType, shape: Dim[]): Tensor {
    if (this.used.has(name)) throw new MemlensError(`input name ${name} is used twice`);
    this.used.add(name);
    this.inputs.push({ name, dtype, shape });
    const t = new Tensor(this, name, shape, dtype);
    this.inputTensors.push(t);
    return t;
  }

  /** Makes `t` a graph output called `name` (renaming its producer's output, or via Identity). */
  addOutput(t: Tensor, name: string): void {
    const producedHere = this.nodes.some((n) => n.outputs.includes(t.name));
    const alreadyOutput = this.outputs.some((o) => o.name === (this.renames.get(t.name) ?? t.name));
    let final = t.name;
    if (!producedHere || alreadyOutput || this.renames.has(t.name)) {
      final = this.op('Identity', [t], { dtype: t.dtype, shape: t.shape }).name;
    }
    if (this.used.has(name) && name !== final) throw new MemlensError(`output name ${name} is used twice`);
    this.used.add(name);
    this.renames.set(final, name);
    this.outputs.push({ name, dtype: t.dtype, shape: [...t.shape] });
  }

  /** Tags the node producing `t` with metadata. */
  tagProducer(t: Tensor, metadata: Record<string, string>): void {
    Object.assign(this.producer(t).metadata, metadata);
  }

  /** Sets, for the output `t` of its producer, its item of a per-output list key (`,key,value`). */
  tagOutput(t: Tensor, key: string, value: string): void {
    const node = this.producer(t);
    const items = node.metadata[key] !== undefined ? node.metadata[key].split(',') : node.outputs.map(() => '');
    items[node.outputs.indexOf(t.name)] = value;
    node.metadata[key] = items.join(',');
  }

  private producer(t: Tensor): GraphNode {
    const node = this.nodes.find((n) => n.outputs.includes(t.name));
    if (!node) throw new Error(`internal: no node produces ${t.name}`);
    return node;
  }

  toModel(): Model {
    const rename = (n: string) => this.renames.get(n) ?? n;
    const nodes = this.nodes.map((n) => ({ ...n, inputs: n.inputs.map(rename), outputs: n.outputs.map(rename) }));
    const opsets = { ...this.opsets };
    if (this.needsFloat8) {
      opsets[''] = FLOAT8_OPSET;
      for (const n of nodes) this.moveReduceAxesToInput(n);
    }
    return {
      irVersion: opsets[''] >= 19 ? 9 : 8,
      producer: 'memlens',
      opsets,
      graph: {
        name: 'memlens_trace',
        nodes,
        inputs: this.inputs,
        outputs: this.outputs,
        initializers: this.initializers,
        valueInfo: new Map(),
      },
      metadata: { ...this.metadata },
    };
  }

  /** Opset 18 turned the `axes` attribute of the Reduce* ops (ReduceSum aside) into an input. */
  private moveReduceAxesToInput(n: GraphNode): void {
    if (!n.opType.startsWith('Reduce') || n.opType === 'ReduceSum' || n.domain !== '') return;
    const axes = n.attributes.axes;
    if (!axes || axes.kind !== 'ints') return;
    const { axes: _removed, ...rest } = n.attributes;
    n.attributes = rest;
    n.inputs = [n.inputs[0], this.int64s(axes.value).name];
  }
}

let active: TraceGraph | null = null;

/** The trace running now; the model API's ops need it for parameters and scopes. */
export function activeGraph(): TraceGraph | null {
  return active;
}

export function requireGraph(what: string): TraceGraph {
  if (!active) throw new MemlensError(`${what} can only be used while a model is being traced`);
  return active;
}

export function runWithGraph<T>(g: TraceGraph, fn: () => T): T {
  const previous = active;
  active = g;
  try {
    return fn();
  } finally {
    active = previous;
  }
}
