// What bridge/export_onnx.py answers (its result JSON), and the check that reads it: the bridge
// runs the user's Python, so its answer is read field by field before export.ts uses it.
import {
  arrayOf, bool, count, nullable, num, object, oneOf, str, tagged, variant, type Check, type Checked,
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

const tensorRecord = object({ name: str, dtype: str, shape: arrayOf(count), bytes: count });

const regionCall = object({ checkpoint: nullable(str), offload: nullable(str) });

const success = variant('ok', true, {
  torchVersion: str,
  exporter: oneOf(['dynamo', 'torchscript'] as const),
  /** The example inputs the export ran with (dtype as torch names it). */
  inputs: arrayOf(object({ name: str, shape: arrayOf(num), dtype: str })),
  modules: arrayOf(moduleRecord),
  parameters: arrayOf(tensorRecord),
  buffers: arrayOf(tensorRecord),
  /** Modules called inside checkpoint(...) or save_on_cpu(). */
  regions: arrayOf(object({ path: str, calls: arrayOf(regionCall) })),
});

const failure = variant('ok', false, { kind: str, error: str });

export type BridgeSuccess = Checked<typeof success>;
export type BridgeFailure = Checked<typeof failure>;

export const checkBridgeResult: Check<BridgeSuccess | BridgeFailure> = tagged('ok', { true: success, false: failure });

/** The probe's answer: the torch version without importing torch, and the interpreter's path. */
export const checkProbe = object({ torch: nullable(str), python: str });
