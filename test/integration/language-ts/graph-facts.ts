// Facts read back from traced graphs, computed here independently of the memory engine.
import type { Dim, Model } from '../../../extension/engine/graph';
import { dtypeBits } from '../../../extension/engine/graph';
import { evaluateDim } from '../../../language/typescript/api/dims';
import { MODEL_PARAMETERS } from '../../../language/typescript/api/trace-keys';
import { TRACE_KV } from '../../../language/typescript/api/trace-keys';

/** Sum of elements of the initializers the trace lists as parameters (tied weights appear once). */
export function parameterElements(model: Model): number {
  const names = JSON.parse(model.metadata[MODEL_PARAMETERS]) as string[];
  let n = 0;
  for (const name of names) {
    const init = model.graph.initializers.get(name);
    if (!init) throw new Error(`parameter ${name} has no initializer`);
    n += init.dims.reduce((a, b) => a * b, 1);
  }
  return n;
}

/** Bytes of every tensor produced by a node tagged memlens.kv, with dims bound to `bindings`. */
export function kvBytes(model: Model, bindings: Record<string, number>): number {
  const outputs = new Map(model.graph.outputs.map((o) => [o.name, o]));
  let total = 0;
  for (const node of model.graph.nodes) {
    if (!node.metadata[TRACE_KV]) continue;
    const kinds = node.metadata[TRACE_KV].split(',');
    for (const [i, name] of node.outputs.entries()) {
      if (!kinds[i]) continue;
      const info = outputs.get(name);
      if (!info || !info.shape) throw new Error(`KV tensor ${name} is not a typed graph output`);
      const elements = info.shape.reduce<number>((acc, d: Dim) => {
        const v = evaluateDim(d, bindings);
        if (v === null) throw new Error(`unbound dim ${d} of ${name}`);
        return acc * v;
      }, 1);
      total += (elements * dtypeBits(info.dtype)) / 8;
    }
  }
  return total;
}

/** Structural rules of the ONNX checker that a trace must keep: SSA names, topological order, opsets. */
export function structuralProblems(model: Model): string[] {
  const problems: string[] = [];
  const defined = new Set<string>([...model.graph.inputs.map((i) => i.name), ...model.graph.initializers.keys()]);
  const nodeNames = new Set<string>();
  for (const node of model.graph.nodes) {
    if (nodeNames.has(node.name)) problems.push(`duplicate node name ${node.name}`);
    nodeNames.add(node.name);
    if (model.opsets[node.domain] === undefined) problems.push(`${node.name}: domain '${node.domain}' not imported`);
    for (const input of node.inputs) if (input !== '' && !defined.has(input)) problems.push(`${node.name}: input ${input} used before it is defined`);
    for (const output of node.outputs) {
      if (defined.has(output)) problems.push(`${node.name}: output ${output} defined twice`);
      defined.add(output);
    }
  }
  for (const o of model.graph.outputs) if (!defined.has(o.name)) problems.push(`graph output ${o.name} is never produced`);
  const domains = Object.keys(model.opsets);
  if (model.opsets[''] === undefined) problems.push('no default-domain opset');
  for (const d of domains) if (d !== '' && d !== 'com.microsoft') problems.push(`unexpected domain ${d}`);
  return problems;
}
