// Runs an entry's forward on symbolic inputs and returns the traced ONNX Model.
import type { DType, Model, ValueInfo } from '../../../extension/engine/graph';
import { MemlensError } from '../../../extension/engine/errors';
import { encodeValues } from '../../../extension/engine/onnx/raw-data';
import { Config, Entry, EntrySpec, ForwardResult, InputSpec, Mode } from './entry';
import type { KvRecord } from './kv-cache';
import { Linear } from './linear';
import { Module, Parameter, sample, setDefaultDtype, getDefaultDtype, StateTensor } from './module';
import { Tensor } from './tensor';
import { runWithGraph, TraceGraph } from './trace-graph';
import {
  MODEL_BUFFERS, MODEL_ENTRY, MODEL_FROZEN, MODEL_INPUTS, MODEL_KV_CACHE, MODEL_LOSS, MODEL_MODE,
  MODEL_PARAMETERS, MODEL_REGIONS, MODEL_TIED,
} from './trace-keys';

/** Bytes of a named weight to use instead of random ones (e.g. read from .safetensors). */
export interface LoadedWeight {
  dtype: DType;
  dims: number[];
  raw: Uint8Array;
}

export interface TraceOptions {
  /** Give every weight bytes (seeded random, or `weights`); default shapes only. */
  materialize?: boolean;
  seed?: number;
  /** Dtype of parameters the model does not set itself (default float32). */
  dtype?: DType;
  /** Overrides of the entry's config fields. */
  config?: Config;
  /** Weights by parameter name; used when materialising. */
  weights?: ReadonlyMap<string, LoadedWeight>;
}

export interface EntryDescription {
  name: string;
  description: string;
  mode: Mode;
  config: Config;
  inputs: (ValueInfo & { range?: [number, number] })[];
  outputs: ValueInfo[];
  /** Parameter elements, tied weights once (PyTorch's count). */
  parameterCount: number;
  kvCache: KvRecord[];
}

export interface TracedModel {
  model: Model;
  description: EntryDescription;
}

export function traceEntry<C extends object, M extends Module>(name: string, e: Entry<C, M> | EntrySpec<C, M>, options: TraceOptions = {}): TracedModel {
  const config = { ...e.config, ...(options.config ?? {}) } as C;
  const previousDtype = getDefaultDtype();
  setDefaultDtype(options.dtype ?? 'float32');
  let model: M;
  try {
    model = e.model(config);
  } finally {
    setDefaultDtype(previousDtype);
  }
  if (!(model instanceof Module)) throw new MemlensError(`entry ${name}: model() did not return a Module`);
  const inputs = typeof e.inputs === 'function' ? e.inputs(config) : e.inputs;
  const forward = e.forward ?? ((m: M, xs: Record<string, Tensor>) => callForward(m, Object.values(xs)));
  const mode = e.mode ?? 'infer';
  const traced = traceModel(model, inputs, (m, xs) => forward(m, xs, config), { ...options, mode });
  traced.model.metadata[MODEL_ENTRY] = name;
  return {
    model: traced.model,
    description: {
      name,
      description: e.description ?? '',
      mode,
      config: jsonSafe(config as Config),
      inputs: Object.entries(inputs).map(([n, s]) => ({ name: n, dtype: inputDtype(s, options), shape: [...s.shape], ...(s.range ? { range: s.range } : {}) })),
      outputs: traced.model.graph.outputs,
      parameterCount: model.numParameters(),
      kvCache: traced.kvCache,
    },
  };
}

function callForward(m: Module, args: Tensor[]): ForwardResult {
  const f = (m as unknown as { forward?: (...a: Tensor[]) => ForwardResult }).forward;
  if (typeof f !== 'function') throw new MemlensError(`${m.constructor.name} has no forward method`);
  return f.apply(m, args);
}

function inputDtype(s: InputSpec, options: TraceOptions): DType {
  // Float inputs follow the trace dtype so a float16 model takes float16 pixels.
  return s.dtype === 'float32' && options.dtype ? options.dtype : s.dtype;
}

/** Traces `forward(model, inputs)` into a Model. */
export function traceModel<M extends Module>(
  model: M,
  inputs: Record<string, InputSpec>,
  forward: (model: M, inputs: Record<string, Tensor>) => ForwardResult,
  options: TraceOptions & { mode?: Mode } = {},
): { model: Model; kvCache: KvRecord[] } {
  const mode = options.mode ?? 'infer';
  const g = new TraceGraph({ materialize: options.materialize ?? false, seed: options.seed ?? 0, training: mode === 'train' });
  for (const [path, m] of model.namedModules()) g.modulePaths.set(m, path);

  const aliases = model.parameterAliases();
  const quantizedWeights = new Set<Parameter>();
  for (const [, m] of model.namedModules()) if (m instanceof Linear && m.quantization) quantizedWeights.add(m.weight);

  const named = model.namedParameters();
  const buffers = model.namedBuffers();
  const parameterNames: string[] = [];
  const frozen: string[] = [];
  const tied: Record<string, string> = {};
  const bind = (name: string, s: StateTensor, emit: boolean) => {
    s.bind(g, name);
    if (!emit) return;
    g.addInitializer(name, s.dtype, s.dims, materialised(name, s, g, options));
  };
  for (const [name, p] of named) {
    const paths = aliases.get(p) ?? [name];
    for (const alias of paths.slice(1)) tied[alias] = name;
    // A quantized weight used nowhere else is stored only in its quantized form.
    const emit = !(quantizedWeights.has(p) && paths.length === 1);
    bind(name, p, emit);
    if (emit) {
      parameterNames.push(name);
      if (!p.requiresGrad) frozen.push(name);
    }
  }
  for (const [name, b] of buffers) bind(name, b, true);

  const inputTensors: Record<string, Tensor> = {};
  for (const [name, spec] of Object.entries(inputs)) inputTensors[name] = g.addInput(name, inputDtype(spec, options), [...spec.shape]);

  const previousLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 200;
  let result: ForwardResult;
  try {
    result = runWithGraph(g, () => forward(model, inputTensors));
  } finally {
    Error.stackTraceLimit = previousLimit;
    for (const [, p] of named) p.unbind();
    for (const [, b] of buffers) b.unbind();
  }
  const outputs = namedOutputs(result);
  let loss: string | null = null;
  for (const [name, t] of outputs) {
    g.addOutput(t, name);
    if (mode === 'train' && (name === 'loss' || (outputs.length === 1 && t.rank === 0))) loss = name;
  }
  if (mode === 'train' && !loss) throw new MemlensError('training entry: forward must return the loss (a scalar, or an output named `loss`)');

  // Quantized weights count as (frozen) parameters in their stored form; scales are buffers.
  const quantWeights = g.quantizedState.filter((n) => n.endsWith('_quantized'));
  const quantScales = g.quantizedState.filter((n) => !n.endsWith('_quantized'));
  const m = g.toModel();
  m.metadata[MODEL_MODE] = mode;
  m.metadata[MODEL_PARAMETERS] = JSON.stringify([...parameterNames, ...quantWeights]);
  m.metadata[MODEL_FROZEN] = JSON.stringify([...frozen, ...quantWeights]);
  m.metadata[MODEL_BUFFERS] = JSON.stringify([...buffers.map(([n]) => n), ...quantScales]);
  m.metadata[MODEL_TIED] = JSON.stringify(tied);
  m.metadata[MODEL_KV_CACHE] = JSON.stringify(g.kvRecords);
  m.metadata[MODEL_REGIONS] = JSON.stringify(g.regionInfo);
  m.metadata[MODEL_INPUTS] = JSON.stringify(Object.entries(inputs).map(([name, s]) => ({ name, ...s, dtype: inputDtype(s, options) })));
  if (loss) m.metadata[MODEL_LOSS] = loss;
  return { model: m, kvCache: [...g.kvRecords] };
}

function materialised(name: string, s: StateTensor, g: TraceGraph, options: TraceOptions): Uint8Array | undefined {
  if (!g.rng) return undefined;
  const loaded = options.weights?.get(name);
  if (loaded) {
    if (loaded.dims.join(',') !== s.dims.join(',')) {
      throw new MemlensError(`weights: ${name} has shape [${loaded.dims.join(',')}] in the file, the model expects [${s.dims.join(',')}]`);
    }
    if (loaded.dtype !== s.dtype) throw new MemlensError(`weights: ${name} is ${loaded.dtype} in the file, the model expects ${s.dtype}`);
    return loaded.raw;
  }
  return encodeValues(s.dtype, sample(s.init, s.numel(), g.rng));
}

function namedOutputs(result: ForwardResult): [string, Tensor][] {
  if (result instanceof Tensor) return [['output', result]];
  if (Array.isArray(result)) {
    return result.map((t, i) => {
      if (!(t instanceof Tensor)) throw new MemlensError(`forward returned a non-tensor at position ${i}`);
      return [`output_${i}`, t];
    });
  }
  if (result && typeof result === 'object') {
    return Object.entries(result).map(([k, t]) => {
      if (!(t instanceof Tensor)) throw new MemlensError(`forward returned a non-tensor under "${k}"`);
      return [k, t];
    });
  }
  throw new MemlensError('forward must return a tensor, an array of tensors or an object of tensors');
}

function jsonSafe(c: Config): Config {
  return JSON.parse(JSON.stringify(c, (_k, v: unknown) => (typeof v === 'function' ? undefined : v))) as Config;
}
