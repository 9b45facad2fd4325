// A two-layer MLP whose nodes carry source lines of `/ws/mlp.ts` (lines 10, 11 and 12), as the
// TypeScript tracer writes them; figures are hand-derived in test/unit/memory/mlp-accounting.test.ts.
import { analyzeModel } from '../../../extension/engine/analyze';
import type { OrtMeasured, Profile } from '../../../extension/engine/profile';
import { withDefaults, type AnalysisSettings } from '../../../extension/engine/settings';
import { GraphBuilder } from '../../fixtures/graph-builder';

export const MLP_FILE = '/ws/mlp.ts';

const at = (line: number, scope: string) => ({ 'memlens.file': MLP_FILE, 'memlens.line': String(line), 'memlens.scope': scope });

export function annotatedMlp() {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [2, 4]);
  const h = b.one('MatMul', [x, b.weight('W1', [4, 8])], { name: 'fc1', metadata: at(10, 'fc1') });
  const r = b.one('Relu', [h], { name: 'relu', metadata: at(11, '') });
  b.one('MatMul', [r, b.weight('W2', [8, 3])], { name: 'fc2', outputs: ['y'], metadata: at(12, 'fc2') });
  b.output('y', 'float32', [2, 3]);
  return b.model();
}

export function mlpProfile(settings: Partial<AnalysisSettings> = {}): Profile {
  return analyzeModel(annotatedMlp(), withDefaults(settings), { source: MLP_FILE, entry: 'Mlp' });
}

/** A run on ONNX Runtime's CPU provider with these per-node figures and nothing else measured. */
export function ortRun(m: Pick<OrtMeasured, 'peakBytes' | 'arenaHeldBytes' | 'perNode'>): OrtMeasured {
  return {
    runtime: 'onnxruntime', ep: 'cpu', wallMs: 1, level: 'disabled', peakSource: 'arena-peak', runs: 1, optimised: null,
    providersSkipped: [], weightBytes: 0, inputBytes: 0, materialised: null, rssPeakBytes: null, deviceMemory: null,
    warnings: [], comparison: null, ...m,
  };
}
