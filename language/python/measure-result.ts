// What bridge/measure_torch.py answers (its result JSON), read field by field: the bridge runs
// the user's Python, so nothing it writes is used before this check has typed it.
import { DATA_TYPES } from '../../extension/engine/onnx/dtype-codes';
import {
  arrayOf, count, nullable, num, object, oneOf, optional, recordOf, str, tagged, variant, type Check, type Checked,
} from '../../extension/process/check';

const phase = nullable(oneOf(['zero_grad', 'forward', 'loss', 'backward', 'optimizer', 'script'] as const));

const step = object({ step: count, peakBytes: count, phase, reservedBytes: optional(count) });

const line = object({ file: str, line: count, bytes: count, forwardBytes: count, backwardBytes: count });

const baseline = object({ parameters: count, buffers: count, inputs: count, optimizerState: count, gradients: count });

const success = variant('ok', true, {
  torchVersion: str,
  device: oneOf(['cpu', 'cuda'] as const),
  label: str,
  mode: oneOf(['infer', 'train'] as const),
  step: object({
    source: oneOf(['script', 'memlens'] as const),
    optimizer: nullable(str),
    loss: nullable(str),
    zeroGrad: nullable(oneOf(['set_to_none'] as const)),
  }),
  inputs: arrayOf(object({ name: str, shape: arrayOf(num), dtype: oneOf(DATA_TYPES) })),
  steps: arrayOf(step),
  peak: object({ bytes: count, step: count, phase, reservedBytes: nullable(count) }),
  baseline,
  totals: object({ parameterBytes: count, bufferBytes: count, gradientBytes: count, optimizerStateBytes: count, optimizerStepCounterBytes: count }),
  atPeak: object({
    lines: arrayOf(line),
    buckets: recordOf(count),
  }),
  wallMs: num,
  notes: arrayOf(str),
});

const failure = variant('ok', false, { kind: str, error: str });

export type TorchBridgeSuccess = Checked<typeof success>;

export const checkTorchRunResult: Check<TorchBridgeSuccess | Checked<typeof failure>> = tagged('ok', { true: success, false: failure });
