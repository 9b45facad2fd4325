// PyTorch files: exported to ONNX by the user's own Python in a child process (trusted only).
import { MemlensError } from '../engine/errors';
import { exportPythonModel, type ExportResult } from '../../language/python/export';
import type { GivenSettings, LoadedModel, LoadOptions } from './load-model';

export async function loadPython(file: string, options: LoadOptions): Promise<LoadedModel> {
  if (!options.trusted) {
    throw new MemlensError(`${file}: profiling a Python model runs its code, which is off in an untrusted workspace`);
  }
  const given = options.given ?? { mode: true, batch: true, seq: true, optimizer: true };
  const r = await exportPythonModel(file, {
    entry: options.entry,
    settings: options.settings,
    trusted: options.trusted,
    pythonPath: options.pythonPath,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    given: { batch: given.batch, seq: given.seq },
    keepWorker: options.keepWorkers,
  });
  const warnings = [...r.notes, ...optimizerWarnings(r, given, options.settings)];
  return { model: r.model, entry: r.entry, kind: 'python', onnxPath: r.onnxPath, settings: { ...scriptSettings(r, given), sizedByExport: exportSized(r) }, warnings, step: r.step, contentHash: r.graphHash };
}

/** A training profile whose optimizer is not the one the script builds says so. */
function optimizerWarnings(r: ExportResult, given: GivenSettings, settings: LoadOptions['settings']): string[] {
  const built = r.step?.optimizer;
  if (!built || settings.mode !== 'train') return [];
  if (built.kind === null) return [`the script builds torch.optim.${built.class}, which MemLens has no state rule for; its state is counted as ${settings.optimizer}'s`];
  if (given.optimizer && built.kind !== settings.optimizer) return [`the script builds torch.optim.${built.class} (${built.kind}); profiled with ${settings.optimizer} as asked`];
  return [];
}

/** The export ran the model at the batch in use, and token inputs at their sequence length. */
function exportSized(r: ExportResult): ('batch' | 'seq')[] {
  const batch = (r.inputs[0]?.shape.length ?? 0) > 0;
  const seq = r.inputs.some((i) => i.shape.length >= 2 && /^u?int/.test(i.dtype));
  return [...(batch ? ['batch' as const] : []), ...(seq ? ['seq' as const] : [])];
}

/** The script's own batch size, sequence length and optimizer where the user set none. */
function scriptSettings(r: ExportResult, given: GivenSettings): LoadedModel['settings'] {
  if (!r.step) return {};
  const out: LoadedModel['settings'] = {};
  const first = r.inputs[0];
  if (first?.shape.length) out.batch = first.shape[0];
  const tokens = r.inputs.find((i) => i.shape.length >= 2 && /^u?int/.test(i.dtype));
  if (tokens) out.seq = tokens.shape[1];
  // The call the script makes sized what the user did not set: `(2, 128)` as written.
  out.fromCode = [...(out.batch !== undefined && !given.batch ? ['batch' as const] : []), ...(out.seq !== undefined && !given.seq ? ['seq' as const] : [])];
  const kind = r.step.optimizer?.kind;
  if (!given.optimizer && kind) out.optimizer = kind;
  return out;
}
