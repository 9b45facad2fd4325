// `npm run bench`: speed goals measured side by side in one run, printed as ratios.
//   1. analysis of the largest bundled ONNX model vs merely decoding its file (goal <= 3x);
//   2. an 80-layer decoder graph (10,000+ nodes, no weight data): decode + analysis time;
//   3. the instrumented ONNX Runtime run vs a plain session run (goal <= 1.10x), when the runner is built;
//   4. the estimate against ONNX Runtime on the held-out set (accuracy-ort.ts), when it has been made.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze, analyzeModel } from '../../extension/engine/analyze';
import { attributionSession, ortHeldFigures } from '../../extension/engine/ort/held';
import { decodeModel } from '../../extension/engine/onnx/decode';
import { encodeModel } from '../../extension/engine/onnx/encode';
import { withDefaults } from '../../extension/engine/settings';
import { formatBytes } from '../../extension/engine/units';
import { LLAMA3_70B, syntheticDecoder } from '../fixtures/synthetic-decoder';

const ROOT = path.resolve(__dirname, '../../..');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => void, runs: number): number {
  fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
}

function onnxFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return onnxFiles(p);
    return e.name.endsWith('.onnx') ? [p] : [];
  });
}

function benchLargestModel(): void {
  const candidates = [...onnxFiles(path.join(ROOT, 'samples')), ...onnxFiles(path.join(ROOT, 'test', 'fixtures', 'models'))];
  if (candidates.length === 0) {
    console.log('largest model: no ONNX model found under samples/ or test/fixtures/models (run scripts/setup-test-env.sh)');
    return;
  }
  const file = candidates.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
  const bytes = fs.readFileSync(file);
  const settings = withDefaults({ mode: 'infer', batch: 1 });
  const model = decodeModel(bytes, file);
  const decodeMs = time(() => decodeModel(bytes, file), 7);
  const analyzeMs = time(() => analyzeModel(model, settings, { source: file, entry: null }), 7);
  const trainMs = time(() => analyzeModel(model, withDefaults({ mode: 'train', batch: 1 }), { source: file, entry: null }), 7);
  console.log(`largest bundled model: ${path.relative(ROOT, file)} (${formatBytes(bytes.length)}, ${model.graph.nodes.length} nodes)`);
  console.log(`  decode            ${decodeMs.toFixed(2)} ms`);
  console.log(`  analyse (infer)   ${analyzeMs.toFixed(2)} ms   ratio to decode ${(analyzeMs / decodeMs).toFixed(2)}x (goal <= 3x)`);
  console.log(`  analyse (train)   ${trainMs.toFixed(2)} ms   ratio to decode ${(trainMs / decodeMs).toFixed(2)}x`);
}

function benchLargeDecoder(): void {
  const model = syntheticDecoder(LLAMA3_70B);
  const bytes = encodeModel(model);
  const decoded = decodeModel(bytes, 'llama70b-synthetic');
  const settings = withDefaults({ mode: 'infer', batch: 1, seq: 4096, dims: { past_sequence: 4096, total_sequence: 8192 } });
  const decodeMs = time(() => decodeModel(bytes, 'llama70b-synthetic'), 3);
  const analyzeMs = time(() => analyzeModel(decoded, settings, { source: 'llama70b-synthetic', entry: null }), 3);
  const trainMs = time(() => analyzeModel(decoded, withDefaults({ ...settings, mode: 'train' }), { source: 'llama70b-synthetic', entry: null }), 3);
  const p = analyzeModel(decoded, settings, { source: 'llama70b-synthetic', entry: null });
  console.log(`80-layer decoder (Llama-3-70B shapes, no weight data): ${decoded.graph.nodes.length} nodes, ${formatBytes(bytes.length)} file`);
  console.log(`  decode            ${decodeMs.toFixed(1)} ms`);
  console.log(`  analyse (infer)   ${analyzeMs.toFixed(1)} ms   ratio to decode ${(analyzeMs / decodeMs).toFixed(2)}x; peak ${formatBytes(p.peak.bytes)}, unknown tensors ${p.unknownTensors}`);
  console.log(`  analyse (train)   ${trainMs.toFixed(1)} ms`);
  // ONNX Runtime's allocation plan and BFC arena replay, inside the inference analysis above.
  const a = analyze(decoded, settings, 'llama70b-synthetic');
  const heldInputs = { model: a.model, table: a.table, shapes: a.shapes, staticShapes: a.staticShapes, weightBytes: p.totals.weightBytes, settings: a.settings, subgraphs: a.subgraphs };
  const ortMs = time(() => ortHeldFigures(heldInputs, attributionSession(2, 1)), 3);
  const share = (100 * ortMs) / Math.max(1e-9, analyzeMs - ortMs);
  console.log(`  ORT plan + arena  ${ortMs.toFixed(1)} ms   adds ${share.toFixed(1)}% to the rest of the analysis (goal <= 20%); arena peak ${formatBytes(p.ortHeld?.arenaInUsePeakBytes ?? 0)}`);
}

async function main(): Promise<void> {
  benchLargestModel();
  benchLargeDecoder();
  // The runner bench starts ONNX Runtime sessions; it runs as its own process so its timings are
  // not disturbed by this process's heap.
  console.log('instrumented run vs plain ONNX Runtime session:');
  const r = spawnSync(process.execPath, [path.join(__dirname, 'runner-overhead.js')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`runner bench exited with ${r.status}`);
  // Measurements are cached in .cache/accuracy/measured, so a rerun costs the analyses only.
  console.log('estimate vs ONNX Runtime on the held-out set (npm run accuracy:ort):');
  if (!fs.existsSync(path.join(ROOT, '.cache', 'heldout', 'models'))) {
    console.log('  no held-out set in .cache/heldout/models (run bash scripts/setup-test-env.sh)');
    return;
  }
  const a = spawnSync(process.execPath, [path.join(__dirname, 'accuracy-ort.js')], { stdio: 'inherit' });
  if (a.status !== 0) throw new Error(`accuracy harness exited with ${a.status}`);
}

main().catch((e) => {
  console.error(`bench failed: ${(e as Error).message}`);
  process.exit(1);
});
