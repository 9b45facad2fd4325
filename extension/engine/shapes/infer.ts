// Shape and dtype inference over a whole model: seeds from inputs, initializers and constants,
// one rule per operator, declared value_info where a rule cannot tell, and constant folding of
// shape computations. An operator without a rule never stops the analysis.
import type { Dim, Graph, GraphNode, Model, TensorType, ValueInfo } from '../graph';
import { axisDimKey } from './bind-dims';
import { MemlensError } from '../errors';
import type { BranchChoice, InferredTensor, ShapeResult } from './types';
import { isKnownShape } from './dim-math';
import { castValue, tensor } from './fold';
import { NodeRuleContext } from './rule-context';
import { ruleFor } from './registry';
import { ShapeError } from './shape-error';
import { topoOrder } from '../graph-order';
import { ifNodes } from '../if-nodes';
import type { IfBranch } from '../settings';

/** An own entry only: names such as `constructor` never resolve through Object.prototype. */
const own = (o: Record<string, number>, key: string): number | null => (Object.hasOwn(o, key) ? o[key] : null);


/** Rule notes kept per analysis: a model with thousands of Ifs must not flood the output. */
const MAX_NOTES = 20;

/** Opset assumed for a domain the model does not import (ai.onnx: the newest these rules know). */
const DEFAULT_OPSET: Record<string, number> = { '': 21 };

class Scope {
  readonly tensors = new Map<string, InferredTensor>();
  constructor(readonly parent: Scope | null) {}
  get(name: string): InferredTensor | undefined {
    return this.tensors.get(name) ?? this.parent?.get(name);
  }
}

interface OpTally { nodes: number; example: string }

class Inference {
  readonly unknownOps = new Map<string, OpTally>();
  /** Known operators whose outputs stayed unknown although all their inputs were known. */
  readonly uninferred = new Map<string, OpTally>();
  /** Inputs naming a tensor nothing defines: how many, and the first. */
  private danglingCount = 0;
  private firstDangling = '';
  readonly failedRules = new Map<string, OpTally>();
  /** Choices rules reported (the branch an If is sized by), one line each. */
  private readonly notes: string[] = [];
  readonly branches = new Map<string, BranchChoice>();
  readonly bodies = new Map<string, Map<string, InferredTensor>>();
  private readonly reporter = {
    warn: (node: GraphNode, message: string) => {
      if (this.notes.length < MAX_NOTES) this.notes.push(`${opName(node)} '${node.name}': ${message}`);
    },
    branch: (node: GraphNode, choice: BranchChoice) => void this.branches.set(node.name, choice),
    body: (node: GraphNode, attr: string) => this.bodies.get(`${node.name}/${attr}`),
    pin: (node: GraphNode): IfBranch | undefined => (node.name !== '' && Object.hasOwn(this.pins, node.name) ? this.pins[node.name] : undefined),
  };

  constructor(
    readonly model: Model, readonly dims: Record<string, number>, readonly inputValues: Record<string, number>,
    /** Fold values computed by nodes (Shape -> Gather -> Concat chains); off for ONNX Runtime's load-time view. */
    readonly foldComputed = true,
    /** The branch named If nodes run (settings' `branches`). */
    readonly pins: Record<string, IfBranch> = {},
  ) {}

  /** A pin that names no If node of the model, main graph or body, pins nothing: one line each. */
  unknownPins(): string[] {
    const names = Object.keys(this.pins);
    if (names.length === 0) return [];
    const known = ifNodes(this.model.graph).map((n) => n.name);
    const has = new Set(known);
    const listed = known.length === 0 ? 'the model has none' : `its If nodes: ${known.slice(0, 5).join(', ')}${known.length > 5 ? ', ...' : ''}`;
    return names.filter((n) => !has.has(n)).map((n) => `--branch ${n}: no If node named '${n}' in the model (${listed}); the pin is ignored`);
  }

  opset(domain: string): number {
    return this.model.opsets[domain] ?? this.model.opsets[domain === '' ? 'ai.onnx' : domain] ?? DEFAULT_OPSET[domain] ?? 1;
  }

  /** Declared type with bound symbolic dims replaced by their sizes. */
  bind(t: TensorType): InferredTensor {
    if (!t.shape) return { dtype: t.dtype, shape: null };
    // A declared size that is no size (-1 from some exporters) says nothing: unknown, filled by inference.
    const shape: Dim[] = t.shape.map((d) => (typeof d === 'string' && Object.hasOwn(this.dims, d) ? this.dims[d] : typeof d === 'number' && !isSize(d) ? null : d));
    return { dtype: t.dtype, shape };
  }

  /** A main-graph input: as bind, and a dim with no name sized by its `input:axis` setting. */
  private bindInput(v: ValueInfo): InferredTensor {
    const t = this.bind(v);
    const shape = t.shape?.includes(null) ? t.shape.map((d, axis) => (d === null ? own(this.dims, axisDimKey(v.name, axis)) : d)) : t.shape;
    const value = own(this.inputValues, v.name) ?? undefined;
    return value !== undefined ? tensor(t.dtype, shape, [castValue(value, t.dtype)]) : { dtype: t.dtype, shape };
  }

  graph(graph: Graph, scope: Scope, seeds?: (InferredTensor | undefined)[]): void {
    graph.inputs.forEach((v, i) => {
      const declared = scope.parent === null ? this.bindInput(v) : this.bind(v);
      const seed = seeds?.[i];
      scope.tensors.set(v.name, (seed && merge(seed, declared)) || declared);
    });
    for (const init of graph.initializers.values()) {
      scope.tensors.set(init.name, tensor(init.dtype, init.dims, init.values));
    }
    const declaredOutputs = new Map<string, TensorType>();
    for (const o of graph.outputs) declaredOutputs.set(o.name, o);

    const ctx = new NodeRuleContext((node, attr, inputs) => this.subgraph(node, attr, scope, inputs), this.reporter);
    for (const node of topoOrder(graph)) {
      const inputs = node.inputs.map((name) => (name === '' ? undefined : this.lookup(scope, name, node)));
      const rule = ruleFor(node.domain, node.opType);
      let results: (InferredTensor | null)[] = [];
      if (rule) {
        try {
          results = rule(node, inputs, ctx.at(node, this.opset(node.domain)));
          if (!this.foldComputed && node.opType !== 'Constant') results = loadTimeResults(node, inputs, results);
        } catch (e) {
          if (e instanceof ShapeError) throw new MemlensError(`node '${node.name}' (${opName(node)}): ${e.message}`);
          // A rule that trips over a form it does not expect must not end the analysis.
          tally(this.failedRules, `${opName(node)}: ${(e as Error).message}`, node.name);
          results = [];
        }
      } else {
        tally(this.unknownOps, opName(node), node.name);
      }
      let lost = false;
      for (let i = 0; i < node.outputs.length; i++) {
        const out = node.outputs[i];
        if (out === '') continue;
        const inferred = checkedSizes(sanitize(results[i]), node, i);
        // A fully inferred tensor needs nothing declared (merge would return it as is).
        const declaredType = isComplete(inferred) ? undefined : graph.valueInfo.get(out) ?? declaredOutputs.get(out);
        const t = merge(inferred, declaredType ? this.bind(declaredType) : null) ?? { dtype: 'undefined', shape: null };
        if (isUnknown(t)) lost = true;
        scope.tensors.set(out, t);
      }
      if (rule && lost && inputs.every((t) => t === undefined || !isUnknown(t))) {
        tally(this.uninferred, opName(node), node.name);
      }
    }
  }

  private lookup(scope: Scope, name: string, node: GraphNode): InferredTensor | undefined {
    const t = scope.get(name);
    if (!t && this.danglingCount++ === 0) this.firstDangling = `'${name}' of node '${node.name}'`;
    return t;
  }

  private subgraph(
    node: GraphNode,
    attr: string,
    outer: Scope,
    seeds: (InferredTensor | undefined)[] | undefined,
  ): InferredTensor[] | undefined {
    const a = node.attributes[attr];
    if (a?.kind !== 'graph') return undefined;
    const scope = new Scope(outer);
    this.graph(a.value, scope, seeds);
    this.bodies.set(`${node.name}/${attr}`, scope.tensors);
    return a.value.outputs.map((o) => scope.get(o.name) ?? this.bind(o));
  }

  warnings(): string[] {
    const out: string[] = [...this.notes];
    for (const [op, t] of this.unknownOps) {
      out.push(`unknown operator ${op} (${plural(t.nodes, 'node')}): declared shapes used where present`);
    }
    for (const [op, t] of this.uninferred) {
      out.push(`size of ${op} outputs not inferable (${plural(t.nodes, 'node')}, e.g. '${t.example}'): data-dependent or computed from values not known statically`);
    }
    for (const [what, t] of this.failedRules) {
      out.push(`internal: shape rule failed (${plural(t.nodes, 'node')}, e.g. '${t.example}'): ${what}; declared shapes used where present`);
    }
    if (this.danglingCount > 0) {
      out.push(`${plural(this.danglingCount, 'node input')} name a tensor that nothing defines (first: ${this.firstDangling})`);
    }
    return out;
  }
}

function opName(node: GraphNode): string {
  return node.domain === '' ? node.opType : `${node.domain}:${node.opType}`;
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function tally(map: Map<string, OpTally>, op: string, example: string): void {
  const t = map.get(op);
  if (t) t.nodes++;
  else map.set(op, { nodes: 1, example });
}

/** A size that can be a tensor's: an integer >= 0 that a double holds exactly. */
export const isSize = (d: number) => Number.isSafeInteger(d) && d >= 0;

/**
 * Past 2^50 elements (a PiB of bytes and more) no memory holds the tensor, and sums of such sizes
 * lose the exactness of doubles that the engine's invariants rely on.
 */
export const MAX_ELEMENTS = 2 ** 50;

/**
 * A rule's answer whose sizes are all real sizes. A size a rule could not compute (NaN from a value
 * it does not know) is unknown; a negative one (Expand to -2) or one past MAX_ELEMENTS is refused.
 */
function checkedSizes(t: InferredTensor | null, node: GraphNode, i: number): InferredTensor | null {
  if (!t?.shape) return t;
  let shape = t.shape;
  if (shape.some((d) => typeof d === 'number' && !Number.isFinite(d))) {
    shape = shape.map((d) => (typeof d === 'number' && !Number.isFinite(d) ? null : d));
    t = t.value !== undefined ? { dtype: t.dtype, shape } : { ...t, shape };
  }
  let bad = false, elements = 1;
  for (const d of shape) {
    if (typeof d !== 'number') continue;
    if (!isSize(d)) bad = true;
    elements *= d;
  }
  if (!bad && elements <= MAX_ELEMENTS) return t;
  const shown = shape.map((d) => d ?? '?').join(', ').slice(0, 120);
  const why = bad ? 'sizes must be whole numbers >= 0' : `over ${MAX_ELEMENTS} elements, more than any memory holds`;
  throw new MemlensError(`node '${node.name}' (${opName(node)}): output ${i} would have shape [${shown}]; ${why}`);
}

/** A rule's answer with any missing dim (a rule reading past a short shape) made unknown. */
function sanitize(t: InferredTensor | null | undefined): InferredTensor | null {
  if (!t) return null;
  if (t.shape && t.shape.includes(undefined as unknown as Dim)) return { dtype: t.dtype, shape: t.shape.map((d) => d ?? null) };
  return t;
}

export function isUnknown(t: InferredTensor): boolean {
  if (t.sequence?.length === 0) return false; // an empty sequence holds nothing
  return t.dtype === 'undefined' || !isKnownShape(t.shape) || (t.sequence !== undefined && typeof t.sequence.length !== 'number');
}

function withoutValue(t: InferredTensor | null): InferredTensor | null {
  return t && t.value !== undefined ? { dtype: t.dtype, shape: t.shape } : t;
}

/**
 * Inputs whose values size an op's output. ONNX shape inference reads them only from initializers
 * (getInputData); without one it gives the output's rank and no dims (onnx shape_inference tests,
 * e.g. test_slice_without_input_shape), where MemLens's rules keep the dims they can still tell.
 */
const SIZING_INPUTS: Record<string, number[]> = {
  Slice: [1, 2, 3, 4], Pad: [1, 2], Expand: [1], Tile: [1], Reshape: [1], Resize: [1, 2, 3], Upsample: [1],
  ConstantOfShape: [0], Range: [0, 1, 2], TopK: [1], Split: [1], OneHot: [1],
};

/** ONNX Runtime's load-time view of a node's results: no computed values, no dims a missing sizing value would give. */
function loadTimeResults(node: GraphNode, inputs: (InferredTensor | undefined)[], results: (InferredTensor | null)[]): (InferredTensor | null)[] {
  const sizing = SIZING_INPUTS[node.opType];
  const unsized = sizing?.some((i) => node.inputs[i] && inputs[i]?.value === undefined) ?? false;
  return results.map((t) => {
    const plain = withoutValue(t);
    return plain && unsized && plain.shape ? { dtype: plain.dtype, shape: plain.shape.map(() => null) } : plain;
  });
}

/** A dtype and every dim known: what the graph declares cannot add to it (see merge). */
function isComplete(t: InferredTensor | null): boolean {
  return t !== null && t.dtype !== 'undefined' && isKnownShape(t.shape);
}

/** What a rule inferred, completed by what the graph declares (declared sizes fill unknown dims). */
function merge(inferred: InferredTensor | null, declared: InferredTensor | null): InferredTensor | null {
  if (!inferred) return declared;
  if (!declared) return inferred;
  const dtype = inferred.dtype !== 'undefined' ? inferred.dtype : declared.dtype;
  let shape = inferred.shape ?? declared.shape;
  if (inferred.shape && declared.shape && inferred.shape.length === declared.shape.length && !isKnownShape(inferred.shape)) {
    shape = inferred.shape.map((d, i) => (typeof d === 'number' ? d : typeof declared.shape![i] === 'number' ? declared.shape![i] : d ?? declared.shape![i]));
  }
  if (dtype === inferred.dtype && shape === inferred.shape) return inferred;
  return inferred.value !== undefined ? { dtype, shape, value: inferred.value } : { dtype, shape };
}

/**
 * Shapes and dtypes of every tensor of the model, with symbolic dims replaced from `dims`
 * (see bindDims), one-element inputs given values folded (see bindInputValues) and If nodes named
 * in `branches` sized by that branch. Throws MemlensError for a cycle or for inputs an operator cannot accept.
 */
export function inferShapes(
  model: Model, dims: Record<string, number>, inputValues: Record<string, number> = {}, foldComputed = true, branches: Record<string, IfBranch> = {},
): ShapeResult {
  const inference = new Inference(model, dims, inputValues, foldComputed, branches);
  const scope = new Scope(null);
  inference.graph(model.graph, scope);
  const unknown: string[] = [];
  for (const [name, t] of scope.tensors) if (isUnknown(t)) unknown.push(name);
  const warnings = [...inference.unknownPins(), ...inference.warnings()];
  return { tensors: scope.tensors, unknown, warnings, branches: inference.branches, bodies: inference.bodies };
}
