// `npm run accuracy:ort`: MemLens's estimate against ONNX Runtime's own figures on the held-out set
// (.cache/heldout/models, made by scripts/setup-test-env.sh): weights, the activation arena peak
// with optimisations off, the optimised session's peak, the share of nodes whose requested bytes in
// use match within 1 KiB, and unknown tensors; then the median and maximum error per column. Where
// a run took another If branch than the estimate sized, the arena figure with that branch pinned
// stands beside the static one, and the summary gives both distributions.
// Results go to .cache/accuracy/ort.json (and ort-<label>.json with --label).
//   node out/test/bench/accuracy-ort.js [--only NAME ...] [--remeasure] [--label NAME]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeModel } from '../../extension/engine/analyze';
import { decodeModel } from '../../extension/engine/onnx/decode';
import { repoRoot } from '../fixtures/repo-root';
import { compareModel, summariseRows, type ModelRow } from './accuracy/compare-rows';
import { estimateFigures } from './accuracy/estimate-figures';
import { formatTable } from './accuracy/format';
import { heldoutDir, heldoutModels, referenceWeightBytes, type HeldoutModel } from './accuracy/heldout-set';
import { measure, RUNS } from './accuracy/measure';
import { optimisedGraph } from '../../extension/runner/optimised-graph';
import type { Profile } from '../../extension/engine/profile';
import { branchesRan } from '../../extension/runner/branches-ran';
import { divergedBranches, ranPins } from '../../extension/runner/compare-branches';
import type { Measurement } from './accuracy/measure';
import type { PinnedArena } from './accuracy/compare-rows';
import { localOrtSession } from '../../extension/analysis/local-ort-session';

interface Options { only: string[]; remeasure: boolean; label: string | null }

function parseOptions(argv: string[]): Options {
  const only: string[] = [];
  let remeasure = false;
  let label: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only') while (argv[i + 1] && !argv[i + 1].startsWith('--')) only.push(argv[++i]);
    else if (argv[i] === '--remeasure') remeasure = true;
    else if (argv[i] === '--label') label = argv[++i] ?? null;
    else throw new Error(`unknown option '${argv[i]}' (use --only NAME..., --remeasure, --label NAME)`);
  }
  return { only, remeasure, label };
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

const optimisedDir = path.join(repoRoot, '.cache', 'accuracy', 'optimised-graphs');

function analyse(file: string, model: HeldoutModel, optimised: boolean, settings = model.settings): Profile {
  const decoded = decodeModel(fs.readFileSync(file), file);
  return analyzeModel(decoded, settings, { source: file, entry: null, ortSession: localOrtSession(RUNS, optimised) });
}

/**
 * Where the measured run took another If branch than the estimate sized (told by the branch's own
 * node events, cached with the measurement), the arena estimate re-analysed with that branch pinned.
 */
function pinnedArena(model: HeldoutModel, profile: Profile, m: Measurement): PinnedArena | null {
  const ran = branchesRan(decodeModel(fs.readFileSync(model.file), model.file).graph, m.attribution.nodes);
  const branches = divergedBranches(profile, ran);
  if (branches.length === 0) return null;
  const pinned = analyse(model.file, model, false, { ...model.settings, branches: { ...model.settings.branches, ...ranPins(branches) } });
  return { arenaPeakBytes: pinned.ortHeld!.arenaInUsePeakBytes, branches };
}

async function modelRow(model: HeldoutModel, remeasure: boolean): Promise<{ row: ModelRow; analyseMs: number; cached: boolean }> {
  // ORT writing the optimised graph is part of the estimate (a cached file after the first time).
  const t0 = performance.now();
  let profile, optimised;
  try {
    profile = analyse(model.file, model, false);
    const graph = await optimisedGraph(model.file, { cacheDir: optimisedDir, timeoutMs: 5 * 60 * 1000 });
    optimised = analyse(graph.path, model, true);
  } catch (e) {
    return { row: { name: model.name, origin: model.facts.origin, ok: false, error: `estimate: ${oneLine(e)}` }, analyseMs: 0, cached: false };
  }
  const analyseMs = performance.now() - t0;
  try {
    const { m, cached } = await measure(model, remeasure);
    const row = compareModel(model.name, model.facts.origin, estimateFigures(profile, optimised), referenceWeightBytes(model.facts), m, profile.warnings, pinnedArena(model, profile, m));
    return { row, analyseMs, cached };
  } catch (e) {
    return { row: { name: model.name, origin: model.facts.origin, ok: false, error: `ONNX Runtime: ${oneLine(e)}` }, analyseMs, cached: false };
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const models = heldoutModels(options.only);
  if (models.length === 0) {
    console.log(`accuracy:ort: no held-out models in ${path.relative(repoRoot, heldoutDir)}; run bash scripts/setup-test-env.sh`);
    process.exitCode = 1;
    return;
  }
  const rows: ModelRow[] = [];
  for (const model of models) {
    const t0 = performance.now();
    const { row, analyseMs, cached } = await modelRow(model, options.remeasure);
    rows.push(row);
    process.stderr.write(`accuracy:ort: ${model.name}: analysed in ${analyseMs.toFixed(0)} ms, ${cached ? 'measurement cached' : `measured in ${((performance.now() - t0) / 1000).toFixed(1)} s`}\n`);
  }
  const summary = summariseRows(rows);
  console.log(formatTable(rows, summary));
  const outDir = path.join(repoRoot, '.cache', 'accuracy');
  fs.mkdirSync(outDir, { recursive: true });
  const json = JSON.stringify({ schema: 'memlens.accuracy-ort/1', date: new Date().toISOString(), summary, rows }, null, 1);
  fs.writeFileSync(path.join(outDir, 'ort.json'), json);
  if (options.label) fs.writeFileSync(path.join(outDir, `ort-${options.label}.json`), json);
  console.log(`results: ${path.relative(repoRoot, path.join(outDir, 'ort.json'))}`);
}

main().catch((e) => {
  console.error(`accuracy:ort failed: ${oneLine(e)}`);
  process.exit(1);
});
