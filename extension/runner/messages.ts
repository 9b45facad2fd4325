// Checks of what the run process sends back (types.ts): every figure a finite number, every
// name a string, every kind one of its closed set, before the caller reads any of it.
import { DATA_TYPES } from '../engine/onnx/dtype-codes';
import { IF_BRANCHES } from '../engine/settings';
import {
  arrayOf, bool, count, nullable, num, object, oneOf, optional, str, tagged, variant, type Check,
} from '../process/check';
import type { WorkerMessage } from './types';

const providerName = oneOf(['cpu', 'cuda', 'webgpu', 'dml', 'coreml'] as const);

const nodeMeasurement = object({
  node: str,
  op: str,
  provider: str,
  nodeIndex: nullable(num),
  durationUs: num,
  executions: count,
  outputBytes: num,
  activationBytes: num,
  parameterBytes: num,
  inUseBytes: nullable(num),
  requestedInUseBytes: nullable(num),
  inUseDeltaBytes: nullable(num),
  inUsePeakBytes: nullable(num),
  arenaHeldBytes: nullable(num),
});

const sessionFigures = object({
  level: oneOf(['disabled', 'all'] as const),
  ep: providerName,
  sessionCreateMs: num,
  runWallMs: arrayOf(num),
  wallMs: num,
  wallTimeProfiled: bool,
  profiledWallMs: num,
  peakBytes: num,
  peakSource: oneOf(['arena-peak', 'node-in-use', 'rss-delta'] as const),
  arenaHeldBytes: nullable(num),
  rssDeltaBytes: num,
  nodes: arrayOf(nodeMeasurement),
});

const inputSpec = object({
  name: str,
  dtype: oneOf(DATA_TYPES),
  shape: arrayOf(count),
  fill: oneOf(['ids', 'ones', 'zeros', 'random', 'value'] as const),
  idLimit: optional(count),
  value: optional(num),
  bytes: count,
});

const runFigures = object({
  ep: providerName,
  providers: arrayOf(object({ ep: providerName, status: oneOf(['ran', 'skipped', 'failed'] as const), reason: str })),
  attribution: sessionFigures,
  optimised: nullable(sessionFigures),
  optimisedSessionPeaks: arrayOf(num),
  inputs: arrayOf(inputSpec),
  weightBytes: count,
  materialised: nullable(object({ tensors: count, bytes: count })),
  runs: count,
  branches: arrayOf(object({ node: str, ran: oneOf(IF_BRANCHES), seen: arrayOf(str) })),
  warnings: arrayOf(str),
});

export const checkWorkerMessage: Check<WorkerMessage> = tagged('type', {
  stage: variant('type', 'stage', { stage: str }),
  result: variant('type', 'result', { result: runFigures }),
  error: variant('type', 'error', { message: str, userError: bool }),
});
