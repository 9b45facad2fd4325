// PyTorch files: exported to ONNX by the user's own Python in a child process (trusted only).
import { MemlensError } from '../engine/errors';
import { exportPythonModel, type ExportResult } from '../../language/python/export';
import type { GivenSettings, LoadedModel, LoadOptions } from './load-model';

export async function loadPython(file: string, options: LoadOptions): Promise<LoadedModel> {
  if (!options.trusted) {
    throw new MemlensError(`${file}: profiling a Python model runs its code, which is off in an untrusted workspace`);
  }
  const given = options.given ?? { batch: true, seq: true, optimizer: true };
  const r = await exportPythonModel(file, {
    entry: options.entry,
    settings: options.settings,
    trusted: options.trusted,
    pythonPath: options.pythonPath,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    given: { batch: given.batch, seq: given.seq },
  });
  return { model: r.model, entry: r.entry, kind: 'python', onnxPath: r.onnxPath, settings: scriptSettings(r, given), warnings: r.notes, step: r.step };
}

/** The script's own batch size, sequence length and optimizer where the user set none. */
function scriptSettings(r: ExportResult, given: GivenSettings): LoadedModel['settings'] {
  if (!r.step) return {};
  const out: LoadedModel['settings'] = {};
  const first = r.inputs[0];
  if (first?.shape.length) out.batch = first.shape[0];
  const tokens = r.inputs.find((i) => i.shape.length >= 2 && /^u?int/.test(i.dtype));
  if (tokens) out.seq = tokens.shape[1];
  const kind = r.step.optimizer?.kind;
  if (!given.optimizer && kind) out.optimizer = kind;
  return out;
}
