// PyTorch files: exported to ONNX by the user's own Python in a child process (trusted only).
import { MemlensError } from '../engine/errors';
import { exportPythonModel } from '../../language/python/export';
import type { LoadedModel, LoadOptions } from './load-model';

export async function loadPython(file: string, options: LoadOptions): Promise<LoadedModel> {
  if (!options.trusted) {
    throw new MemlensError(`${file}: profiling a Python model runs its code, which is off in an untrusted workspace`);
  }
  const r = await exportPythonModel(file, {
    entry: options.entry,
    settings: options.settings,
    trusted: options.trusted,
    pythonPath: options.pythonPath,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  });
  return { model: r.model, entry: r.entry, kind: 'python', onnxPath: r.onnxPath };
}
