// `npm run bench`: the speed goals, measured side by side in one run. Every timed figure is a
// median over interleaved A/B pairs with its min and max (paired.ts); each goal gets a verdict,
// and the process exits 1 when any goal is missed.
//   1. analysis vs decode (goal <= 3x) on the 80-layer, 10,000-node decoder and on the largest
//      real model in the fixtures (and the held-out set's largest graph, when it has been made);
//   2. instrumented vs plain ONNX Runtime (runner-overhead.ts, its own process);
//   3. save-to-figures for samples/gpt2.ts and samples/python/gpt_decoder.py through profileFile,
//      the editor's own entry point;
//   4. activation (activation.ts);
//   5. the share of the decoder's analysis taken by ONNX Runtime's allocation plan and arena replay
//      (goal <= 20% of the rest of the analysis).
// The held-out accuracy table is `npm run accuracy:ort`.
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyze, analyzeModel, ortHeldOf } from '../../extension/engine/analyze';
import type { Model } from '../../extension/engine/graph';
import { decodeModel } from '../../extension/engine/onnx/decode';
import { encodeModel } from '../../extension/engine/onnx/encode';
import { withDefaults, type AnalysisSettings as Settings } from '../../extension/engine/settings';
import { formatBytes } from '../../extension/engine/units';
import { LLAMA3_70B, syntheticDecoder } from '../fixtures/synthetic-decoder';
import { activationGoals } from './activation';
import { blockSize, fmtSpread, pairedSync, verdict, type Goal } from './paired';
import { pythonSaveGoals } from './python-save';
import { saveToFiguresGoals } from './save-to-figures';

const ROOT = path.resolve(__dirname, '../../..');
const ANALYSIS_GOAL = 3;

function onnxFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return onnxFiles(p);
    return e.name.endsWith('.onnx') ? [p] : [];
  });
}

interface Subject {
  label: string;
  bytes: Uint8Array;
  name: string;
  settings: Settings;
  pairs: number;
}

/** Decode (A) against analysis of the decoded model (B), paired; training analysis printed beside. */
function analysisVsDecode(s: Subject): Goal {
  const model: Model = decodeModel(s.bytes, s.name);
  const analyse = (settings: Settings) => () => void analyzeModel(model, settings, { source: s.name, entry: null });
  const decode = () => void decodeModel(s.bytes, s.name);
  const trainSettings = withDefaults({ ...s.settings, mode: 'train' });
  const repeat = blockSize(decode, analyse(s.settings));
  const infer = pairedSync(decode, analyse(s.settings), s.pairs, 1, repeat);
  const train = pairedSync(decode, analyse(trainSettings), Math.max(3, Math.floor(s.pairs / 2)), 1, blockSize(decode, analyse(trainSettings)));
  console.log(`${s.label}: ${model.graph.nodes.length} nodes, ${formatBytes(s.bytes.length)} file${repeat > 1 ? `; each side of a pair a block of ${repeat} calls (figures per call)` : ''}`);
  console.log(`  decode            ${fmtSpread(infer.aMs, 1, ' ms')}`);
  console.log(`  analyse (infer)   ${fmtSpread(infer.bMs, 1, ' ms')}`);
  console.log(`  paired ratio      ${fmtSpread(infer.ratio, 2, 'x')} over ${infer.pairs} pairs`);
  console.log(`  analyse (train)   ${fmtSpread(train.bMs, 1, ' ms')}, paired ratio ${fmtSpread(train.ratio, 2, 'x')} (no goal)`);
  const goal: Goal = {
    name: `analysis vs decode, ${s.label}`,
    figure: `${infer.ratio.median.toFixed(2)}x`,
    limit: `<= ${ANALYSIS_GOAL}x`,
    met: infer.ratio.median <= ANALYSIS_GOAL,
    measured: true,
  };
  console.log(`  -> ${verdict(goal)} (goal ${goal.limit})`);
  return goal;
}

const ORT_SHARE_GOAL = 20;

/** ORT's plan + arena replay (B) against the whole inference analysis that contains it (A), paired. */
function ortReplayShare(s: Subject): Goal {
  const model: Model = decodeModel(s.bytes, s.name);
  const a = analyze(model, s.settings, s.name);
  const p = analyzeModel(model, s.settings, { source: s.name, entry: null });
  const r = pairedSync(
    () => void analyzeModel(model, s.settings, { source: s.name, entry: null }),
    () => void ortHeldOf(a, { source: s.name, entry: null }),
    Math.max(3, Math.floor(s.pairs / 2)), 1,
  );
  // r = replay / analysis; the replay's cost relative to the rest of the analysis is r / (1 - r).
  const share = (100 * r.ratio.median) / Math.max(1e-9, 1 - r.ratio.median);
  console.log(`  ORT plan + arena  ${fmtSpread(r.bMs, 1, ' ms')}, ${share.toFixed(1)}% of the rest of the analysis; arena peak ${formatBytes(p.ortHeld?.arenaInUsePeakBytes ?? 0)}`);
  const goal: Goal = { name: `ORT plan + arena replay, ${s.label}`, figure: `+${share.toFixed(1)}%`, limit: `<= ${ORT_SHARE_GOAL}%`, met: share <= ORT_SHARE_GOAL, measured: true };
  console.log(`  -> ${verdict(goal)} (goal ${goal.limit})`);
  return goal;
}

function decoderSubject(): Subject {
  const bytes = encodeModel(syntheticDecoder(LLAMA3_70B));
  const settings = withDefaults({ mode: 'infer', batch: 1, seq: 4096, dims: { past_sequence: 4096, total_sequence: 8192 } });
  return { label: '80-layer decoder (Llama-3-70B shapes, no weight data)', bytes, name: 'llama70b-synthetic', settings, pairs: 15 };
}

function fileSubject(label: string, file: string, pairs: number): Subject {
  return { label: `${label} ${path.relative(ROOT, file)}`, bytes: fs.readFileSync(file), name: file, settings: withDefaults({ mode: 'infer', batch: 1 }), pairs };
}

/** The largest fixture model by file size, and the held-out set's largest graph by node count. */
function realSubjects(): Subject[] {
  const fixtures = onnxFiles(path.join(ROOT, 'test', 'fixtures', 'models'));
  const out: Subject[] = [];
  if (fixtures.length > 0) {
    const largest = fixtures.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
    out.push(fileSubject('largest fixture model', largest, 25));
  } else {
    console.log('largest fixture model: none under test/fixtures/models (run scripts/setup-test-env.sh)');
  }
  const heldout = onnxFiles(path.join(ROOT, '.cache', 'heldout', 'models'));
  if (heldout.length > 0) {
    const nodes = (f: string) => decodeModel(fs.readFileSync(f), f).graph.nodes.length;
    const counted = heldout.map((f) => ({ f, n: nodes(f) })).sort((a, b) => b.n - a.n);
    out.push(fileSubject('held-out model with the most nodes', counted[0].f, 9));
  }
  return out;
}

/** runner-overhead.js in its own process, so ONNX Runtime's threads and heap do not disturb this one. */
function runnerGoals(): Promise<Goal[]> {
  return new Promise((resolve) => {
    let goals: Goal[] = [];
    const child = fork(path.join(__dirname, 'runner-overhead.js'), [], { stdio: 'inherit' });
    child.on('message', (m: { goals?: Goal[] }) => { goals = m.goals ?? goals; });
    child.on('exit', (code) => {
      if (goals.length === 0) {
        goals = [{ name: 'instrumented vs plain ONNX Runtime', figure: `runner bench exited with ${code}`, limit: '<= 1.1x', met: false, measured: true }];
      }
      resolve(goals);
    });
  });
}

const SECTIONS = ['analysis', 'runner', 'save', 'python', 'activation'] as const;
type Section = (typeof SECTIONS)[number];

/** `node out/test/bench/bench.js [section...]`: all sections by default. */
function chosenSections(): Set<Section> {
  const args = process.argv.slice(2);
  const wrong = args.filter((a) => !(SECTIONS as readonly string[]).includes(a));
  if (wrong.length > 0) throw new Error(`unknown section ${wrong.join(', ')} (sections: ${SECTIONS.join(', ')})`);
  return new Set((args.length > 0 ? args : SECTIONS) as Section[]);
}

async function main(): Promise<void> {
  const only = chosenSections();
  const load = os.loadavg().map((x) => x.toFixed(2)).join(', ');
  console.log(`machine: ${os.cpus().length} cores, load average ${load} (1, 5, 15 min); the goals hold for a quiet machine`);
  const goals: Goal[] = [];
  if (only.has('analysis')) {
    const decoder = decoderSubject();
    goals.push(analysisVsDecode(decoder), ortReplayShare(decoder));
    for (const s of realSubjects()) goals.push(analysisVsDecode(s));
  }
  if (only.has('runner')) {
    console.log('instrumented vs plain ONNX Runtime:');
    goals.push(...await runnerGoals());
  }
  if (only.has('save')) {
    console.log('save-to-figures, samples/gpt2.ts (profileFile, as the editor calls it):');
    goals.push(...await saveToFiguresGoals(ROOT));
  }
  if (only.has('python')) {
    console.log('re-profile after an edit, samples/python/gpt_decoder.py (profileFile, as the editor calls it):');
    goals.push(...await pythonSaveGoals(ROOT));
  }
  if (only.has('activation')) {
    console.log('activation (dist/extension.js, and the packaged VSIX in code-server):');
    goals.push(...await activationGoals(ROOT));
  }
  console.log('\ngoals:');
  for (const g of goals) console.log(`  ${verdict(g).padEnd(12)} ${g.name}: ${g.figure} (goal ${g.limit})`);
  const missed = goals.filter((g) => g.measured && !g.met).length;
  console.log(missed === 0 ? 'all measured goals met' : `${missed} goal(s) missed`);
  process.exitCode = missed === 0 ? 0 : 1;
}

main().catch((e: unknown) => {
  console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
