// What bridge/export_onnx.py answers (its result JSON), and the check that reads it: the bridge
// runs the user's Python, so its answer is read field by field before export.ts uses it.
import { DATA_TYPES } from '../../extension/engine/onnx/dtype-codes';
import {
  arrayOf, bool, count, nullable, num, object, oneOf, optional, str, tagged, variant, type Check, type Checked,
} from '../../extension/process/check';

export type Exporter = 'dynamo' | 'torchscript';

const moduleRecord = object({
  path: str,
  className: str,
  classModule: str,
  classFile: nullable(str),
  forwardQualname: nullable(str),
  forwardFile: nullable(str),
  forwardLine: nullable(count),
  builtin: bool,
});

/** First name in module order; tied tensors list their other names in aliases. */
const tensorFields = { name: str, aliases: arrayOf(str), dtype: str, shape: arrayOf(count), bytes: count };
const parameterRecord = object({ ...tensorFields, requiresGrad: bool });
const bufferRecord = object({ ...tensorFields, persistent: bool });

const capturedCall = object({ className: str, file: nullable(str), line: nullable(count), batch: nullable(count) });
const scriptOptimizer = object({
  class: str,
  kind: nullable(oneOf(['adamw', 'adam', 'sgd', 'sgd-momentum'] as const)),
  implementation: oneOf(['single-tensor', 'foreach', 'fused'] as const),
});
const lossRecord = object({ shape: arrayOf(count), gradFn: nullable(str) });

const regionCall = object({ checkpoint: nullable(str), offload: nullable(str) });

const success = variant('ok', true, {
  torchVersion: str,
  exporter: oneOf(['dynamo', 'torchscript'] as const),
  /** The entry's name, the main block's expression, or the class of the captured module. */
  label: str,
  /** The example inputs the export ran with (dtype as torch names it). */
  inputs: arrayOf(object({ name: str, shape: arrayOf(num), dtype: oneOf(DATA_TYPES) })),
  /** The script's first model call, its optimizer and the tensor it called backward on, when it ran. */
  captured: nullable(capturedCall),
  optimizer: nullable(scriptOptimizer),
  loss: nullable(lossRecord),
  notes: arrayOf(str),
  modules: arrayOf(moduleRecord),
  parameters: arrayOf(parameterRecord),
  buffers: arrayOf(bufferRecord),
  /** Modules called inside checkpoint(...) or save_on_cpu(). */
  regions: arrayOf(object({ path: str, calls: arrayOf(regionCall) })),
});

/** `at`: the user's line the failure names (absolute path, 1-based line), for the editor's Problems. */
const failure = variant('ok', false, { kind: str, error: str, at: optional(nullable(object({ file: str, line: count }))) });

export type BridgeSuccess = Checked<typeof success>;
export type BridgeFailure = Checked<typeof failure>;

export const checkBridgeResult: Check<BridgeSuccess | BridgeFailure> = tagged('ok', { true: success, false: failure });

/** The probe's answer: the torch version without importing torch, and the interpreter's path. */
export const checkProbe = object({ torch: nullable(str), python: str });
