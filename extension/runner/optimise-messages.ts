// What optimise-worker.ts is sent and sends back, checked before the caller reads it.
import { str, tagged, variant, type Check } from '../process/check';

export interface OptimiseStart {
  modelPath: string;
  outputPath: string;
  workDir: string;
  /** Weights over this are refused before any is filled (materialise.ts). */
  memoryLimitBytes: number;
  /** Seed of the values filled into weights the model does not carry (the runner's default). */
  seed: number;
}

export type OptimiseMessage = { type: 'written'; ortVersion: string } | { type: 'error'; message: string };

export const checkOptimiseMessage: Check<OptimiseMessage> = tagged('type', {
  written: variant('type', 'written', { ortVersion: str }),
  error: variant('type', 'error', { message: str }),
});

