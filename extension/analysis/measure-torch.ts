// Measured figures from PyTorch itself beside the estimate, for Python models. The run happens in
// language/python/measure.ts; here it becomes the profile's `measured` (runtime 'torch') with a
// comparison that says how far apart the two are and nothing more: a difference with no measured
// cause stays a difference. Training estimates are compared with training steps only (the
// run always uses the estimate's mode), at the same inputs and in fp32.
import * as os from 'node:os';
import { MemlensError } from '../engine/errors';
import { TORCH_TARGET_PCT, type TorchComparison, type TorchComponent, type TorchMeasuredFigures } from '../engine/measured-torch';
import type { Profile } from '../engine/profile';
import { formatBytes } from '../engine/units';
import { measureTorchModel, type TorchRunResult } from '../../language/python/measure';
import type { LoadedModel, LoadOptions } from './load-model';

export interface TorchMeasureOptions {
  /** Execution provider setting: auto, cpu or cuda are PyTorch devices; the rest are ONNX Runtime's. */
  ep: string;
  runs: number;
  memoryLimitBytes?: number;
}

export async function measureTorchProfile(file: string, loaded: LoadedModel, profile: Profile, load: LoadOptions, options: TorchMeasureOptions): Promise<TorchMeasuredFigures> {
  const device = options.ep === 'auto' || options.ep === 'cpu' || options.ep === 'cuda' ? options.ep : null;
  if (device === null) throw new MemlensError(`execution provider ${options.ep} is ONNX Runtime's; a PyTorch run takes auto, cpu or cuda (or run on ONNX Runtime with --runtime onnxruntime)`);
  if (profile.settings.dtype !== 'fp32') {
    throw new MemlensError(`the PyTorch run measures the model as it is (fp32); the estimate is for ${profile.settings.dtype} mixed precision, so profile with --dtype fp32 to compare`);
  }
  const limit = options.memoryLimitBytes ?? Math.floor(os.totalmem() * 0.75);
  if (profile.peak.bytes > limit) {
    throw new MemlensError(`PyTorch run refused: the estimated peak ${formatBytes(profile.peak.bytes)} is over the run's memory limit of ${formatBytes(limit)}; lower --batch or --seq`);
  }
  const settings = profile.settings;
  const result = await measureTorchModel(file, {
    entry: load.entry,
    settings: { ...load.settings, mode: settings.mode, batch: settings.batch, seq: settings.seq, optimizer: settings.optimizer, dims: settings.dims },
    trusted: load.trusted,
    pythonPath: load.pythonPath,
    timeoutMs: load.timeoutMs,
    signal: load.signal,
    keepWorker: load.keepWorkers,
    given: { batch: load.given?.batch ?? true, seq: load.given?.seq ?? true },
    optimizerGiven: load.given?.optimizer ?? true,
    // The first training step creates the optimizer state; the steady state needs a second.
    steps: settings.mode === 'train' ? Math.max(2, options.runs) : options.runs,
    device,
    memoryLimitBytes: limit,
  });
  return toTorchMeasured(result, profile, loaded);
}

export function toTorchMeasured(r: TorchRunResult, profile: Profile, loaded: LoadedModel): TorchMeasuredFigures {
  const peakStep = r.steps.find((s) => s.step === r.peak.step);
  const figures: TorchMeasuredFigures = {
    runtime: 'torch',
    ep: `torch-${r.device}`,
    device: r.device,
    torchVersion: r.torchVersion,
    mode: r.mode,
    step: r.step,
    steps: r.steps,
    peakBytes: r.peak.bytes,
    peakStep: r.peak.step,
    peakPhase: r.peak.phase,
    reservedBytes: peakStep?.reservedBytes ?? r.peak.reservedBytes ?? null,
    baseline: r.baseline,
    totals: r.totals,
    atPeak: r.atPeak,
    wallMs: r.wallMs,
    comparison: null,
    noComparison: null,
    notes: r.notes,
  };
  const mismatch = inputMismatch(r, loaded);
  if (mismatch) figures.noComparison = mismatch;
  else figures.comparison = compareTorch(profile, r);
  return figures;
}

/** The run must have fed the graph's own input shapes, or the figures describe another model. */
function inputMismatch(r: TorchRunResult, loaded: LoadedModel): string | null {
  const graph = loaded.model.graph.inputs.filter((i) => !loaded.model.graph.initializers.has(i.name));
  const shown = (s: readonly unknown[]) => `(${s.join(', ')})`;
  for (let i = 0; i < Math.min(graph.length, r.inputs.length); i++) {
    const a = graph[i].shape ?? [];
    const b = r.inputs[i].shape;
    if (a.length !== b.length || a.some((d, k) => d !== b[k])) {
      return `not compared: PyTorch ran input ${r.inputs[i].name} at ${shown(b)}, the estimate is for ${shown(a)}`;
    }
  }
  return null;
}

export function compareTorch(profile: Profile, r: TorchRunResult): TorchComparison {
  const training = profile.settings.mode === 'train';
  // The estimate models the steady state: the largest step after the first, when there is one.
  const steady = r.steps.filter((s) => !training || s.step > 0);
  const measured = Math.max(...(steady.length ? steady : r.steps).map((s) => s.peakBytes));
  const estimated = profile.peak.bytes;
  const t = profile.totals;
  const components: TorchComponent[] = [component('weights (parameters and buffers)', t.weightBytes, r.baseline.parameters + r.baseline.buffers)];
  if (training) {
    components.push(component('gradients', t.gradientBytes, r.totals.gradientBytes));
    components.push(component('optimizer state', t.optimizerStateBytes, r.totals.optimizerStateBytes));
  }
  const first = r.steps.find((s) => s.step === 0);
  if (training && first) components.push(component('first step peak (optimizer state created in step())', estimated, first.peakBytes));
  const differencePct = pct(estimated, measured);
  const withinTarget = Math.abs(differencePct) <= TORCH_TARGET_PCT;
  const summary = [
    `peak: estimate ${formatBytes(estimated)} is ${describe(differencePct)} the measured ${training ? 'steady-state step' : 'forward'} (${formatBytes(measured)})` +
      (withinTarget ? ` — within ${TORCH_TARGET_PCT}%` : ` — outside the ${TORCH_TARGET_PCT}% target; the difference is not explained`),
    ...components.map((c) => `${c.label}: estimate ${formatBytes(c.estimatedBytes)}, measured ${formatBytes(c.measuredBytes)} (${describe(c.differencePct)} measured)`),
  ];
  if (training && r.totals.optimizerStepCounterBytes > 0) {
    summary.push(`optimizer step counters: ${formatBytes(r.totals.optimizerStepCounterBytes)} measured (one scalar tensor per parameter), not in the estimate`);
  }
  return { estimatedPeakBytes: estimated, measuredPeakBytes: measured, differencePct, withinTarget, components, summary };
}

function component(label: string, estimatedBytes: number, measuredBytes: number): TorchComponent {
  return { label, estimatedBytes, measuredBytes, differencePct: pct(estimatedBytes, measuredBytes) };
}

function pct(estimated: number, measured: number): number {
  if (measured === 0) return estimated === 0 ? 0 : 100;
  return (100 * (estimated - measured)) / measured;
}

/** "3.2% above", "equal to". */
export function describe(differencePct: number): string {
  if (Math.abs(differencePct) < 0.05) return 'equal to';
  return `${Math.abs(differencePct).toFixed(1)}% ${differencePct > 0 ? 'above' : 'below'}`;
}
