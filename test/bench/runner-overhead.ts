// Cost of instrumentation, as two paired comparisons (paired.ts), each with goal <= 1.10x and
// max/min of the paired ratios < 1.3:
//   1. ONNX Runtime's profiler, as the runner's memory pass turns it on (session-options.ts), vs a
//      plain session with default options, in this process, a fresh session for each side of
//      each pair, so each pair's ratio is the profiler's cost alone;
//   2. the run time the runner reports (its timing pass, in its own process) vs a plain session in
//      this process, one runModel call per pair: the figure users compare with their own runs.
// Usage: node out/test/bench/runner-overhead.js [layers=8] [hidden=1024] [batch=64] [pairs=15] [runPairs=6]
// Exits 2 when a goal is missed. Started by bench.js with IPC, it also sends the goals there.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { runModel } from '../../extension/runner/run';
import { sessionOptions } from '../../extension/runner/session-options';
import { encode, mlpModel } from '../integration/runner/models';
import { fmtSpread, median, pairedAsync, verdict, type Goal, type Paired } from './paired';

const GOAL_RATIO = 1.1;
const GOAL_STABILITY = 1.3;
/** Timed runs per side in one pair of the in-process comparison. */
const BLOCK = 9;

type Feeds = Record<string, ort.Tensor>;

function feedsFor(h: number, batch: number): Feeds {
  const x = new Float32Array(batch * h);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i) * 0.5;
  return { x: new ort.Tensor('float32', x, [batch, h]) };
}

async function timedRun(session: ort.InferenceSession, feeds: Feeds): Promise<number> {
  const t = performance.now();
  await session.run(feeds);
  return performance.now() - t;
}

/**
 * Each side of a pair is a fresh session: created, one warm-up run discarded, BLOCK runs timed
 * (their median), released. One session at a time, since an idle session's intra-op threads
 * spin for a while after each run and would slow the other's runs if both were alive.
 */
async function profilerCost(bytes: Uint8Array, feeds: Feeds, pairs: number): Promise<Paired> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-bench-'));
  const block = async (options: ort.InferenceSession.SessionOptions, profiled: boolean) => {
    const session = await ort.InferenceSession.create(bytes, options);
    try {
      await session.run(feeds);
      const times: number[] = [];
      for (let i = 0; i < BLOCK; i++) times.push(await timedRun(session, feeds));
      return median(times);
    } finally {
      if (profiled) session.endProfiling();
      await session.release();
    }
  };
  try {
    return await pairedAsync(
      () => block({ executionProviders: ['cpu'] }, false),
      () => block(sessionOptions(workDir, 'cpu', 'all', true), true),
      pairs, 1,
    );
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

async function reportedVsPlain(bytes: Uint8Array, feeds: Feeds, batch: number, runs: number, pairs: number): Promise<Paired> {
  const plain = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  const plainBlock = async () => {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await timedRun(plain, feeds));
    return median(times.slice(1));
  };
  const runner = async () => {
    const r = await runModel({ model: { bytes, name: 'mlp' }, ep: 'cpu', dims: { batch }, runs }, { timeoutMs: 600_000 });
    return r.optimised!.wallMs;
  };
  try {
    return await pairedAsync(plainBlock, runner, pairs, 1);
  } finally {
    await plain.release();
  }
}

function goalOf(name: string, p: Paired): Goal {
  const stability = p.ratio.max / p.ratio.min;
  return {
    name,
    figure: `${p.ratio.median.toFixed(3)}x, max/min ${stability.toFixed(2)}`,
    limit: `<= ${GOAL_RATIO}x, max/min < ${GOAL_STABILITY}`,
    met: p.ratio.median <= GOAL_RATIO && stability < GOAL_STABILITY,
    measured: true,
  };
}

function print(label: string, p: Paired, g: Goal): void {
  console.log(`  ${label} (${p.pairs} pairs)`);
  console.log(`    plain ${fmtSpread(p.aMs, 2, ' ms')}; other ${fmtSpread(p.bMs, 2, ' ms')}`);
  console.log(`    paired ratio ${fmtSpread(p.ratio, 3, 'x')}, max/min ${(p.ratio.max / p.ratio.min).toFixed(2)} -> ${verdict(g)} (goal ${g.limit})`);
}

async function main(): Promise<void> {
  const [layers = 8, h = 1024, batch = 64, pairs = 15, runPairs = 6] = process.argv.slice(2).map(Number);
  const bytes = encode(mlpModel(layers, h));
  const feeds = feedsFor(h, batch);
  const runs = 12;
  console.log(`  model: ${layers} x (MatMul ${h}x${h} + Add + Relu) + Softmax = ${3 * layers + 1} nodes, batch ${batch}, cpu`);
  const profiler = await profilerCost(bytes, feeds, pairs);
  const g1 = goalOf('instrumented (profiling) vs plain session, same process', profiler);
  print(`profiled session vs plain, a fresh session per side, median of ${BLOCK} runs after a warm-up`, profiler, g1);
  const reported = await reportedVsPlain(bytes, feeds, batch, runs, runPairs);
  const g2 = goalOf('runner-reported run time vs plain session', reported);
  print(`runner's reported time (runModel, ${runs} runs, first discarded) vs plain session here`, reported, g2);
  const goals = [g1, g2];
  if (process.send) await new Promise<void>((resolve) => process.send!({ goals }, undefined, undefined, () => resolve()));
  process.exitCode = goals.every((g) => g.met) ? 0 : 2;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
