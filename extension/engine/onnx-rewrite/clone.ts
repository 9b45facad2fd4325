// A copy of a model that rewrites may change freely: nodes, their input/output lists and metadata,
// graph inputs/outputs, the initializer map and model metadata are new; initializer contents
// (immutable by convention) and subgraph attributes are shared.
import type { Model } from '../graph';

export function cloneModel(model: Model): Model {
  const g = model.graph;
  return {
    ...model,
    opsets: { ...model.opsets },
    metadata: { ...model.metadata },
    graph: {
      ...g,
      nodes: g.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attributes: { ...n.attributes }, metadata: { ...n.metadata } })),
      inputs: g.inputs.map((v) => ({ ...v, shape: v.shape ? [...v.shape] : null })),
      outputs: g.outputs.map((v) => ({ ...v, shape: v.shape ? [...v.shape] : null })),
      initializers: new Map(g.initializers),
      valueInfo: new Map(g.valueInfo),
    },
  };
}

/** A tensor name not used in the graph yet, derived from `base`. */
export function freshName(model: Model, base: string, taken?: Set<string>): string {
  const used = taken ?? usedNames(model);
  let name = base;
  for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
  used.add(name);
  return name;
}

export function usedNames(model: Model): Set<string> {
  const g = model.graph;
  const used = new Set<string>([...g.initializers.keys(), ...g.inputs.map((i) => i.name), ...g.outputs.map((o) => o.name)]);
  for (const n of g.nodes) {
    used.add(n.name);
    n.outputs.forEach((o) => used.add(o));
  }
  return used;
}
