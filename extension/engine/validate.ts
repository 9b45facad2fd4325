// Checks a model before analysis: what the engine cannot read is an error, what it reads only
// partly is a warning.
import type { Model } from './graph';
import { MemlensError } from './errors';
import { MAX_ELEMENTS } from './shapes/infer';

/** ai.onnx opsets whose operator semantics the shape rules follow. */
export const MIN_OPSET = 7;
export const MAX_OPSET = 23;

export function validateModel(model: Model, where: string): string[] {
  const warnings: string[] = [];
  const opset = model.opsets[''];
  if (opset === undefined) {
    if (model.graph.nodes.some((n) => n.domain === '')) throw new MemlensError(`${where}: the model imports no ai.onnx opset`);
  } else if (opset < MIN_OPSET) {
    throw new MemlensError(`${where}: opset ${opset} is not supported (MemLens reads ai.onnx opsets ${MIN_OPSET} to ${MAX_OPSET}); convert it with onnx.version_converter`);
  } else if (opset > MAX_OPSET) {
    warnings.push(`opset ${opset} is newer than MemLens knows (up to ${MAX_OPSET}); shapes follow opset ${MAX_OPSET} rules`);
  }
  if (model.graph.nodes.length === 0) throw new MemlensError(`${where}: the graph has no nodes`);
  checkSizes(model, where);
  return warnings;
}

const isSize = (d: number) => Number.isSafeInteger(d) && d >= 0;

/** Graph inputs and initializers carry sizes that are whole numbers >= 0 (a -3 or 2^63 is refused here, not summed). */
function checkSizes(model: Model, where: string): void {
  for (const i of model.graph.inputs) {
    const axis = i.shape?.findIndex((d) => typeof d === 'number' && !isSize(d)) ?? -1;
    if (axis >= 0) {
      throw new MemlensError(`${where}: input '${i.name.slice(0, 80)}' has size ${String(i.shape![axis])} at axis ${axis}; sizes must be whole numbers >= 0 (name a dynamic axis instead)`);
    }
    if ((i.shape ?? []).reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1) > MAX_ELEMENTS) {
      throw new MemlensError(`${where}: input '${i.name.slice(0, 80)}' has shape [${(i.shape ?? []).join(', ').slice(0, 80)}], over ${MAX_ELEMENTS} elements, more than any memory holds`);
    }
  }
  for (const t of model.graph.initializers.values()) {
    if (t.dims.some((d) => !isSize(d)) || t.dims.reduce((a, d) => a * d, 1) > MAX_ELEMENTS) {
      throw new MemlensError(`${where}: initializer '${t.name.slice(0, 80)}' has dims [${t.dims.join(', ').slice(0, 80)}]; sizes must be whole numbers >= 0, at most ${MAX_ELEMENTS} elements`);
    }
  }
}
