// Re-profile after an edit of samples/python/gpt_decoder.py through profileFile, as the editor
// calls it (keepWorkers): each save writes an edited copy (a comment changes, so no cached export
// applies) and the export runs the script in a fork of the kept Python worker.
//   cold: no worker alive (the first profile after opening: Python starts and imports torch);
//   warm: the worker kept from the previous profile (torch already imported), paired with cold,
//   and while editing (save after save on one worker).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { profileFile } from '../../extension/analysis/profile-file';
import { withDefaults } from '../../extension/engine/settings';
import { stopPythonWorkers } from '../../language/python/python-worker';
import { fmtSpread, pairedAsync, spread, verdict, type Goal } from './paired';

const GOAL_MS = 1500;
const PAIRS = 3;
const STEADY_SAVES = 5;
const NAME = 're-profile after an edit, gpt_decoder.py, warm';

export async function pythonSaveGoals(root: string): Promise<Goal[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-bench-py-'));
  const file = path.join(dir, 'gpt_decoder.py');
  const sample = fs.readFileSync(path.join(root, 'samples', 'python', 'gpt_decoder.py'), 'utf8');
  let saves = 0;
  // Each save is a new export in the shared cache (tens of MB); the bench removes its own.
  const exported = new Set<string>();
  const save = async () => {
    fs.writeFileSync(file, `${sample}\n# save ${++saves}\n`);
    const t0 = performance.now();
    const out = await profileFile({ file, settings: withDefaults({}), trusted: true, timeoutMs: 300_000, keepWorkers: true });
    const ms = performance.now() - t0;
    if (out.onnxPath) exported.add(out.onnxPath);
    if (!(out.profile.peak.bytes > 0)) throw new Error('gpt_decoder.py: the profile has no peak');
    return ms;
  };
  const cold = async () => {
    await stopPythonWorkers();
    return save();
  };
  try {
    const p = await pairedAsync(cold, save, PAIRS, 1);
    console.log(`  cold (no worker: Python starts, imports torch) ${fmtSpread(p.aMs, 0, ' ms')}`);
    console.log(`  warm, first saves after opening ${fmtSpread(p.bMs, 0, ' ms')} over ${p.pairs} pairs`);
    const steadyTimes: number[] = [];
    for (let i = 0; i < STEADY_SAVES; i++) steadyTimes.push(await save());
    const steady = spread(steadyTimes);
    console.log(`  warm, editing (${STEADY_SAVES} saves on one worker) ${fmtSpread(steady, 0, ' ms')}`);
    const goal = (name: string, ms: number): Goal => ({ name, figure: `${ms.toFixed(0)} ms`, limit: `<= ${GOAL_MS} ms`, met: ms <= GOAL_MS, measured: true });
    const goals = [goal(`${NAME}, first saves after opening`, p.bMs.median), goal(`${NAME}, editing`, steady.median)];
    console.log(`  -> ${goals.map((g) => `${g.name.replace(`${NAME}, `, '')} ${verdict(g)}`).join('; ')}`);
    return goals;
  } catch (e) {
    console.log(`  could not profile: ${e instanceof Error ? e.message : String(e)}`);
    return [{ name: NAME, figure: 'no figures', limit: `<= ${GOAL_MS} ms`, met: false, measured: false }];
  } finally {
    await stopPythonWorkers();
    for (const onnx of exported) for (const f of [onnx, onnx.replace(/\.onnx$/, '.json')]) fs.rmSync(f, { force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
