// Runs traced graphs in ONNX Runtime with deterministic inputs.
import * as ort from 'onnxruntime-node';
import type { Model } from '../../../extension/engine/graph';
import { evaluateDim } from '../../../language/typescript/api/dims';
import { MODEL_INPUTS } from '../../../language/typescript/api/trace-keys';

/** Inputs for every graph input: ids below their declared range, floats from a sine. */
export function feedsFor(model: Model, bindings: Record<string, number>): Record<string, ort.Tensor> {
  const ranges = new Map<string, [number, number]>();
  for (const i of JSON.parse(model.metadata[MODEL_INPUTS] ?? '[]') as { name: string; range?: [number, number] }[]) if (i.range) ranges.set(i.name, i.range);
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of model.graph.inputs) {
    const dims = (input.shape ?? []).map((d) => {
      const v = evaluateDim(d, bindings);
      if (v === null) throw new Error(`unbound dim ${d}`);
      return v;
    });
    const n = dims.reduce((a, b) => a * b, 1);
    const range = ranges.get(input.name) ?? [0, 8];
    if (input.dtype === 'int64') feeds[input.name] = new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, j) => BigInt(range[0] + ((j * 7919) % (range[1] - range[0])))), dims);
    else if (input.dtype === 'float32') feeds[input.name] = new ort.Tensor('float32', Float32Array.from({ length: n }, (_, j) => Math.sin(j * 0.37)), dims);
    else if (input.dtype === 'int8') feeds[input.name] = new ort.Tensor('int8', Int8Array.from({ length: n }, (_, j) => (j % 17) - 8), dims);
    else throw new Error(`no test data for ${input.dtype}`);
  }
  return feeds;
}
