// Cost of instrumentation: the wall time per run that the runner reports (optimised session, in
// its own process) over that of a plain session with default options in this process, for the
// same model and inputs. Goal: at most 1.10x. Also prints what the profiled passes cost.
// Usage: node out/test/bench/runner-overhead.js [layers=8] [hidden=1024] [batch=64] [runs=12] [rounds=3]
import * as ort from 'onnxruntime-node';
import { runModel } from '../../extension/runner/run';
import { median } from '../../extension/runner/profile-events';
import { encode, mlpModel } from '../integration/runner/models';

async function plainWallMs(bytes: Uint8Array, h: number, batch: number, runs: number): Promise<number> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  const x = new Float32Array(batch * h);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i) * 0.5;
  const feeds = { x: new ort.Tensor('float32', x, [batch, h]) };
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t);
  }
  await session.release();
  return median(times.slice(1));
}

async function main(): Promise<void> {
  const [layers = 8, h = 1024, batch = 64, runs = 12, rounds = 3] = process.argv.slice(2).map(Number);
  const bytes = encode(mlpModel(layers, h));
  const plain: number[] = [];
  const timed: number[] = [];
  const profiledOptimised: number[] = [];
  const attribution: number[] = [];
  const calls: number[] = [];
  // Rounds alternate the two so that load from other processes falls on both alike.
  for (let round = 0; round < rounds; round++) {
    plain.push(await plainWallMs(bytes, h, batch, runs));
    const t0 = performance.now();
    const r = await runModel({ model: { bytes, name: 'mlp' }, ep: 'cpu', dims: { batch }, runs }, { timeoutMs: 600_000 });
    calls.push(performance.now() - t0);
    timed.push(r.optimised!.wallMs);
    profiledOptimised.push(r.optimised!.profiledWallMs);
    attribution.push(r.attribution.wallMs);
  }
  const p = median(plain);
  const line = (label: string, values: number[]) =>
    console.log(`${label}: ${median(values).toFixed(3)} ms per run (${(median(values) / p).toFixed(3)}x)`);
  console.log(`model: ${layers} x (MatMul ${h}x${h} + Add + Relu) + Softmax = ${3 * layers + 1} nodes, batch ${batch}; ${runs} runs per session (first warms up), ${rounds} rounds, medians`);
  console.log(`plain session in this process (default options, no profiling): ${p.toFixed(3)} ms per run`);
  line('runner wall time (optimised, timing pass in the run process)', timed);
  const ratio = median(timed) / p;
  console.log(`ratio: ${ratio.toFixed(3)}x (goal <= 1.10x) ${ratio <= 1.1 ? 'OK' : 'OVER'}`);
  line('optimised with profiling on (memory pass)', profiledOptimised);
  line('optimisations disabled with profiling on (attribution pass)', attribution);
  console.log(`whole runModel call (process start, three sessions, profile parsing): ${median(calls).toFixed(0)} ms`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
