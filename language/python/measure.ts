// A PyTorch model measured by PyTorch itself: bridge/measure_torch.py runs the user's script (or
// entry) in a child process under the user's interpreter, with a time limit and a memory limit,
// and returns torch's own figures (profiler allocations on CPU, allocator counters on CUDA) with
// the live bytes at the peak attributed to the model's lines. Trusted workspaces only.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemlensError } from '../../extension/engine/errors';
import type { TorchBucket, TorchLineFigures, TorchPhase, TorchStepFigures } from '../../extension/engine/measured-torch';
import type { AnalysisSettings, OptimizerKind } from '../../extension/engine/settings';
import { bridgeScript } from './bridge-path';
import { modelRequest, prepareRun, type ExportOptions, type ResolvedInput } from './export';
import { oneLine } from '../../extension/process/ending';
import { checkTorchRunResult } from './measure-result';
import { runPythonJson } from './run-python';
import { makeRunDir, removeRunDir } from '../../extension/process/run-dir';

export interface TorchRunOptions extends Omit<ExportOptions, 'cacheDir'> {
  /** Training or inference steps to measure (the first training step is one of them). */
  steps: number;
  /** `auto`: where the script puts its model, else CUDA when torch has it, else CPU. */
  device: 'auto' | 'cpu' | 'cuda';
  /** The child's address space above what the interpreter and torch map at start. */
  memoryLimitBytes: number;
  /** Whether the user chose the optimizer (else the script's own is used when it built one). */
  optimizerGiven: boolean;
}

export interface TorchRunResult {
  torchVersion: string;
  device: 'cpu' | 'cuda';
  label: string;
  mode: AnalysisSettings['mode'];
  step: { source: 'script' | 'memlens'; optimizer: string | null; loss: string | null; zeroGrad: 'set_to_none' | null };
  inputs: ResolvedInput[];
  steps: TorchStepFigures[];
  peak: { bytes: number; step: number; phase: TorchPhase | null; reservedBytes: number | null };
  baseline: Record<'parameters' | 'buffers' | 'inputs' | 'optimizerState' | 'gradients', number>;
  /** After the run: each storage once; AdamW's scalar step counters apart from its moments. */
  totals: { parameterBytes: number; bufferBytes: number; gradientBytes: number; optimizerStateBytes: number; optimizerStepCounterBytes: number };
  atPeak: { lines: TorchLineFigures[]; buckets: Partial<Record<TorchBucket, number>> };
  wallMs: number;
  notes: string[];
}

const OPTIMIZER_KINDS: readonly OptimizerKind[] = ['adamw', 'adam', 'sgd', 'sgd-momentum', 'adam8bit', 'none'];

export async function measureTorchModel(file: string, options: TorchRunOptions): Promise<TorchRunResult> {
  const prepared = await prepareRun(file, options, 'measuring');
  const work = makeRunDir('memlens-torch-run-');
  try {
    const resultPath = path.join(work, 'result.json');
    const requestPath = path.join(work, 'request.json');
    if (!OPTIMIZER_KINDS.includes(options.settings.optimizer)) throw new MemlensError(`unknown optimizer ${options.settings.optimizer}`);
    fs.writeFileSync(requestPath, JSON.stringify({
      ...modelRequest(prepared, options.settings),
      optimizer: options.settings.optimizer,
      optimizerGiven: options.optimizerGiven,
      steps: options.steps,
      device: options.device,
      memoryLimitBytes: options.memoryLimitBytes,
      result: resultPath,
    }));
    const { result } = await runPythonJson(prepared.python, bridgeScript('measure_torch.py'), [requestPath], {
      // The bridge caps its own address space at memoryLimitBytes above what the interpreter and torch
      // map at start (an allocation past it fails inside torch, reported as out of memory); the
      // supervisor's tree limit stays at its default as the backstop.
      what: `${prepared.label}: PyTorch run`, cwd: prepared.cwd, timeoutMs: options.timeoutMs,
      signal: options.signal, tempDir: work, resultFile: resultPath,
      check: checkTorchRunResult, warm: options.keepWorker,
    });
    if (!result.ok) throw new MemlensError(oneLine(`${prepared.label}: ${result.error}`));
    return result;
  } finally {
    removeRunDir(work);
  }
}
