// Messages between traceFile (parent) and the trace worker (child process), and the check of the
// reply: the worker runs the user's code, which can send anything on the same channel.
import type { Config } from './api/entry';
import type { EntryDescription } from './api/trace-model';
import type { SourceAt } from '../../extension/engine/errors';
import type { Dim, DType } from '../../extension/engine/graph';
import { DATA_TYPES } from '../../extension/engine/onnx/dtype-codes';
import {
  anyObject, arrayOf, bool, bytes, count, CheckError, nullable, num, object, oneOf, optional, str, tagged, variant, type Check,
} from '../../extension/process/check';

/** Set for a kept trace worker: it serves one request after another instead of exiting. */
export const KEPT_ENV = 'MEMLENS_TRACE_KEPT';

export interface TraceRequest {
  file: string;
  /** Export name; undefined: the first entry the file declares. */
  entry?: string;
  materialize: boolean;
  seed: number;
  dtype?: DType;
  config?: Config;
  /** `.safetensors` file whose tensors replace random weights by name. */
  weights?: string;
}

export type TraceReply =
  /** `reused`: a kept worker's last trace of this request, its sources unchanged (see trace-reuse.ts). */
  | { ok: true; model: Uint8Array; description: EntryDescription; entries: string[]; reused: boolean }
  /** `at`: the innermost frame in the user's files, when the error came from their code. */
  | { ok: false; message: string; at?: SourceAt };

const dtype = oneOf(DATA_TYPES);

/** Dims as the model declared them; whether they make sense is the engine's question, not the channel's. */
const dim: Check<Dim> = (v, at) => (v === null || typeof v === 'string' ? v : num(v, at));

const range: Check<[number, number]> = (v, at) => {
  const pair = arrayOf(num)(v, at);
  if (pair.length !== 2) throw new CheckError(at, 'a [low, high) pair', v);
  return [pair[0], pair[1]];
};

const valueInfo = { name: str, dtype, shape: nullable(arrayOf(dim)) };

const description = object({
  name: str,
  description: str,
  mode: oneOf(['infer', 'train'] as const),
  config: anyObject,
  inputs: arrayOf(object({ ...valueInfo, range: optional(range) })),
  outputs: arrayOf(object(valueInfo)),
  parameterCount: count,
  kvCache: arrayOf(object({ layer: count, kind: oneOf(['key', 'value'] as const), past: nullable(str), present: str, dtype })),
});

export const checkTraceReply: Check<TraceReply> = tagged('ok', {
  true: variant('ok', true, { model: bytes, description, entries: arrayOf(str), reused: bool }),
  false: variant('ok', false, { message: str, at: optional(object({ file: str, line: count })) }),
});
