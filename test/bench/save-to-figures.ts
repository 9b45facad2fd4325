// Save-to-figures for samples/gpt2.ts through profileFile, the call the editor's Profiler makes
// (vscode/profiler.ts): trace in the supervised TypeScript worker, decode, analyse. Each save
// writes an edited copy of the sample (a comment changes), as an editor save would.
//   cold: no trace worker alive (the first profile after opening);
//   warm: the worker kept from the previous profile, both just after opening (paired with cold)
//   and while editing (save after save on one worker).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { profileFile } from '../../extension/analysis/profile-file';
import { withDefaults } from '../../extension/engine/settings';
import { stopTraceWorker } from '../../language/typescript/trace';
import { fmtSpread, pairedAsync, spread, verdict, type Goal } from './paired';

const WARM_GOAL_MS = 300;
const COLD_GOAL_MS = 1500;
const PAIRS = 7;
const STEADY_AFTER = 3;
const STEADY_SAVES = 10;

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
    console.log(`  warm, first saves after opening (edit + save) ${fmtSpread(p.bMs, 0, ' ms')} over ${p.pairs} pairs`);
    // Editing: save after save on one worker, once the first few have warmed it (JIT of the
    // TypeScript transpiler and the model API).
    for (let i = 0; i < STEADY_AFTER; i++) await save();
    const steadyTimes: number[] = [];
    for (let i = 0; i < STEADY_SAVES; i++) steadyTimes.push(await save());
    const steady = spread(steadyTimes);
    console.log(`  warm, editing (saves ${STEADY_AFTER + 2} to ${STEADY_AFTER + STEADY_SAVES + 1} on one worker) ${fmtSpread(steady, 0, ' ms')}`);
    const goal = (name: string, ms: number, limit: number): Goal => ({ name, figure: `${ms.toFixed(0)} ms`, limit: `<= ${limit} ms`, met: ms <= limit, measured: true });
    const goals = [
      goal('save-to-figures, gpt2.ts, warm, first saves after opening', p.bMs.median, WARM_GOAL_MS),
      goal('save-to-figures, gpt2.ts, warm, editing', steady.median, WARM_GOAL_MS),
      goal('open-to-figures, gpt2.ts, cold', p.aMs.median, COLD_GOAL_MS),
    ];
    console.log(`  -> ${goals.map((g) => `${g.name.replace('save-to-figures, gpt2.ts, ', '').replace('open-to-figures, gpt2.ts, ', '')} ${verdict(g)}`).join('; ')}`);
    return goals;
  } finally {
    await stopTraceWorker();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
