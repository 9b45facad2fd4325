// From tensors and settings to buffers with live intervals over the step sequence, as a chain of
// small passes over typed records (each in its own file, each testable alone):
//   parameters -> schedule -> checkpoint regions -> saved for backward -> region splits
//   -> weights and inputs -> activations (alias groups) -> KV offload -> gradients -> optimizer.
// Inference: one step per node. Training: forward steps, backward steps in reverse, one optimizer step.
import type { AnalysisSettings } from '../settings';
import type { InferredTensor } from '../shapes/types';
import { activationPass } from './activations';
import type { Buffer, BufferModel, BufferOptions, TrainingStep } from './buffer-types';
import { gradientPass } from './gradients';
import { stolenGradients } from './grad-views';
import { checkBuffers, checkSavedLive } from './invariants';
import { kvOffloadPass } from './kv-offload';
import { lossInput, lossPass } from './loss';
import { mkldnnConvWorkspaces } from './torch-cpu-conv';
import { heldByCallers } from './torch-frames';
import { linearBiasAdds, torchOpGroups } from './torch-ops';
import { torchViews } from './torch-views';
import { optimizerPass } from './optimizer-state';
import { parameterPass } from './parameters';
import { checkpointRegions, regionSplits, type RegionSplit } from './regions';
import { savedPass, type SavedPlan } from './saved';
import { inferenceSchedule, trainingSchedule } from './schedule';
import type { TensorTable } from './tensor-table';
import { weightAndInputBuffers } from './weights';

const NOTHING_SAVED: SavedPlan = { decisions: new Map(), until: new Map(), produced: new Set(), buffers: [], unknownOps: new Map() };

export function buildBuffers(
  table: TensorTable,
  shapes: Map<string, InferredTensor>,
  settings: AnalysisSettings,
  options: BufferOptions,
): BufferModel {
  const training = settings.mode === 'train';
  const params = parameterPass(table, options);
  const logits = training && options.loss === 'cross-entropy' ? lossInput(table) : null;
  const schedule = training ? trainingSchedule(table, params.trainable, logits) : inferenceSchedule(table);
  const regions = checkpointRegions(table, schedule);
  // A model exported from PyTorch is estimated as PyTorch runs it, in inference too: its views
  // (a Linear's W.t(), transposes, splits) share their base's storage.
  const views = training || options.torchMajor !== undefined ? torchViews(table, shapes) : undefined;
  const saved = training ? savedPass(table, shapes, settings, schedule, regions, options.torchMajor ?? null, views) : NOTHING_SAVED;
  const splits = training ? regionSplits(table, schedule, saved.until, regions) : new Map<string, RegionSplit>();
  const torchOps = !training && views ? torchOpGroups(table) : undefined;
  const activations = activationPass(table, { schedule, savedUntil: saved.until, splits, settings, options, torchViews: views, torchOps, ...(torchOps ? { heldByCallers: heldByCallers(table), linearBiasAdds: linearBiasAdds(table) } : {}) });
  let tensors: Buffer[] = [...weightAndInputBuffers(table, schedule.last), ...activations.buffers];
  if (options.kvOffload && !training) tensors = kvOffloadPass(table, tensors, activations.aliases);
  const step = options.trainingStep ?? trainingStepOf(settings, options);
  const buffers = [
    ...saved.buffers,
    ...tensors,
    ...(torchOps && settings.device === 'cpu' ? mkldnnConvWorkspaces(table, shapes) : []),
    ...(logits !== null ? lossPass(table, schedule, logits) : []),
    ...(training ? gradientPass(table, { schedule, trainable: params.trainable, aliases: activations.aliases, settings, step, stolen: views ? stolenGradients(table, shapes, views, params.trainable) : [] }) : []),
    ...(training ? optimizerPass(table, params.trainable, settings, step, schedule.last) : []),
  ];
  const labels = { nodes: table.nodes, settings };
  checkBuffers(schedule.steps, buffers, labels);
  checkSavedLive(saved.until, splits, buffers, activations.aliases, labels);
  const savedTensors = new Set([...saved.produced].filter((name) => !splits.has(name)));
  return {
    steps: schedule.steps, buffers, saved: saved.decisions, savedTensors, trainable: params.trainable,
    params: { count: params.count, trainableCount: params.trainableCount }, warnings: unknownOpWarnings(saved.unknownOps),
  };
}

/** One line naming the ops whose saved-for-backward bytes are not modelled. */
function unknownOpWarnings(unknown: Map<string, number>): string[] {
  if (unknown.size === 0) return [];
  const ops = [...unknown].map(([op, n]) => `${op} (${n} node${n === 1 ? '' : 's'})`).join(', ');
  return [`no saved-for-backward rule for ${ops}: nothing is counted as saved for them`.slice(0, 300)];
}

/**
 * The step the settings ask for. The optimizer's implementation is the script's when the bridge
 * saw it; else PyTorch's default for the device: single-tensor on CPU, foreach on CUDA (2.x).
 */
function trainingStepOf(settings: AnalysisSettings, options: BufferOptions): TrainingStep {
  const device = settings.device ?? 'cuda';
  return {
    optimizerState: settings.step ?? 'steady',
    gradients: settings.zeroGrad ?? 'set-to-none',
    implementation: options.scriptOptimizer ?? (device === 'cpu' ? 'single-tensor' : 'foreach'),
    torchMajor: options.torchMajor ?? null,
  };
}
