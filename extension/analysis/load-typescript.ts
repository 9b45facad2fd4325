// TypeScript model files: traced by running the entry's forward on symbolic tensors, in a child
// process with a time limit (trusted workspaces only).
import { MemlensError } from '../engine/errors';
import { traceFile } from '../../language/typescript/trace';
import type { LoadedModel, LoadOptions } from './load-model';

export async function loadTypeScript(file: string, options: LoadOptions): Promise<LoadedModel> {
  if (!options.trusted) {
    throw new MemlensError(`${file}: tracing a TypeScript model runs its code, which is off in an untrusted workspace`);
  }
  const r = await traceFile(file, options.entry, { timeoutMs: options.timeoutMs, signal: options.signal, keepWorker: options.keepWorkers });
  // The entry's declared mode stands unless the user chose one (flag or setting).
  const modeGiven = options.given?.mode ?? true;
  return { model: r.model, entry: r.entry.name, kind: 'typescript', contentHash: r.graphHash, ...(modeGiven ? {} : { settings: { mode: r.entry.mode } }) };
}
