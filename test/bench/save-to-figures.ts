// Save-to-figures for samples/gpt2.ts through profileFile, the call the editor's Profiler makes
// (vscode/profiler.ts): trace in the supervised TypeScript worker, decode, analyse. Each save
// writes an edited copy of the sample (a comment changes), as an editor save would.
//   cold: no trace worker alive (the first profile after opening);
//   warm: the worker kept from the previous profile.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { profileFile } from '../../extension/analysis/profile-file';
import { withDefaults } from '../../extension/engine/settings';
import { stopTraceWorker } from '../../language/typescript/trace';
import { fmtSpread, pairedAsync, verdict, type Goal } from './paired';

const WARM_GOAL_MS = 300;
const COLD_GOAL_MS = 1500;
const PAIRS = 7;

export async function saveToFiguresGoals(root: string): Promise<Goal[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-bench-gpt2-'));
  const file = path.join(dir, 'gpt2.ts');
  const sample = fs.readFileSync(path.join(root, 'samples', 'gpt2.ts'), 'utf8');
  let saves = 0;
  const save = async () => {
    fs.writeFileSync(file, `${sample}\n// save ${++saves}\n`);
    const t0 = performance.now();
    const out = await profileFile({ file, settings: withDefaults({}), trusted: true, timeoutMs: 60_000, keepWorkers: true });
    if (!(out.profile.peak.bytes > 0)) throw new Error('gpt2.ts: the profile has no peak');
    return performance.now() - t0;
  };
  const cold = async () => {
    await stopTraceWorker();
    return save();
  };
  try {
    const p = await pairedAsync(cold, save, PAIRS, 1);
    console.log(`  cold (no worker) ${fmtSpread(p.aMs, 0, ' ms')}`);
    console.log(`  warm (edit + save) ${fmtSpread(p.bMs, 0, ' ms')} over ${p.pairs} pairs`);
    const warm: Goal = { name: 'save-to-figures, gpt2.ts, warm', figure: `${p.bMs.median.toFixed(0)} ms`, limit: `<= ${WARM_GOAL_MS} ms`, met: p.bMs.median <= WARM_GOAL_MS, measured: true };
    const first: Goal = { name: 'open-to-figures, gpt2.ts, cold', figure: `${p.aMs.median.toFixed(0)} ms`, limit: `<= ${COLD_GOAL_MS} ms`, met: p.aMs.median <= COLD_GOAL_MS, measured: true };
    console.log(`  -> warm ${verdict(warm)}, cold ${verdict(first)}`);
    return [warm, first];
  } finally {
    await stopTraceWorker();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
