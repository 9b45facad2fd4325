// Checks a model before analysis: what the engine cannot read is an error, what it reads only
// partly is a warning.
import type { Model } from './graph';
import { MemlensError } from './errors';

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
  return warnings;
}
