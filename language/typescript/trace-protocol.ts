// Messages between traceFile (parent) and the trace worker (child process).
import type { Config } from './api/entry';
import type { EntryDescription } from './api/trace-model';
import type { DType } from '../../extension/engine/graph';

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
  | { ok: true; model: Uint8Array; description: EntryDescription; entries: string[] }
  | { ok: false; message: string };
