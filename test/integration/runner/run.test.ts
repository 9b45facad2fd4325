// The runner on real onnxruntime-node sessions in a real child process.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MemlensError } from '../../../extension/engine/errors';
import { ModelProto, type PbModel } from '../../../extension/engine/onnx/schema';
import { runModel } from '../../../extension/runner/run';
import type { RunResult } from '../../../extension/runner/types';
import { chainModel, embeddingModel, encode, endlessLoopModel, hugeAllocationModel } from './models';

const H = 256;
const BATCH = 64;
const TENSOR = BATCH * H * 4; // every intermediate of the chain: 65,536 bytes

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function chainStillRuns(): Promise<void> {
  const r = await runModel({ model: { bytes: encode(chainModel(H)), name: 'chain' }, ep: 'cpu', dims: { batch: BATCH }, runs: 1, optimised: false }, { timeoutMs: 30_000 });
  assert.equal(r.attribution.nodes.length, 4);
}

describe('runModel on a MatMul/Add/Relu/Softmax chain', () => {
  let result: RunResult;

  it('runs on cpu and reports one event per graph node', async () => {
    result = await runModel({ model: { bytes: encode(chainModel(H)), name: 'chain' }, ep: 'cpu', dims: { batch: BATCH }, runs: 3 }, { timeoutMs: 60_000 });
    assert.equal(result.ep, 'cpu');
    assert.deepEqual(result.providers, [{ ep: 'cpu', status: 'ran', reason: '' }]);
    assert.deepEqual(result.attribution.nodes.map((n) => [n.node, n.op]), [
      ['matmul', 'MatMul'], ['add', 'Add'], ['relu', 'Relu'], ['softmax', 'Softmax'],
    ]);
    assert.deepEqual(result.inputs, [{ name: 'x', dtype: 'float32', shape: [BATCH, H], fill: 'random', bytes: TENSOR }]);
    assert.equal(result.weightBytes, H * H * 4 + H * 4);
    assert.equal(result.materialised, null);
  });

  it('reports output bytes equal to the tensor sizes', () => {
    for (const n of result.attribution.nodes) {
      assert.equal(n.outputBytes, TENSOR, n.node);
      assert.equal(n.provider, 'CPU');
      assert.ok(n.durationUs > 0, `${n.node} has a duration`);
    }
    // Prepacking is off in the attribution session: the whole weight counts as a parameter.
    assert.equal(result.attribution.nodes[0].parameterBytes, H * H * 4);
    assert.equal(result.attribution.nodes[1].parameterBytes, H * 4);
  });

  it('measures arena bytes that follow the live tensors, Relu in place', () => {
    const inUse = result.attribution.nodes.map((n) => n.requestedInUseBytes);
    // matmul: h1; add: h1 + h2; relu writes into h2 (h1 freed); softmax: h3 + y.
    assert.deepEqual(inUse, [TENSOR, 2 * TENSOR, TENSOR, 2 * TENSOR]);
    assert.equal(result.attribution.nodes[2].inUseDeltaBytes, 0);
    assert.equal(result.attribution.peakSource, 'arena-peak');
    assert.equal(result.attribution.peakBytes, 2 * TENSOR);
    assert.ok((result.attribution.arenaHeldBytes ?? 0) >= result.attribution.peakBytes);
  });

  it('times three runs, the first as warm-up, and reports the median of the rest', () => {
    const s = result.attribution;
    assert.equal(s.runWallMs.length, 3);
    const rest = s.runWallMs.slice(1);
    assert.equal(s.wallMs, (rest[0] + rest[1]) / 2);
  });

  it('also runs the optimised session, where MatMul+Add fuse', () => {
    const o = result.optimised!;
    assert.equal(o.level, 'all');
    assert.ok(o.nodes.length < 4, `fewer kernels after fusion, got ${o.nodes.map((n) => n.node).join(', ')}`);
    assert.ok(!o.nodes.some((n) => n.node === 'add'));
    assert.ok(o.peakBytes > 0);
    assert.ok(o.wallMs > 0);
  });

  it('samples the run process RSS from outside', () => {
    assert.ok((result.rssPeakBytes ?? 0) > 10 * 2 ** 20, `peak RSS ${result.rssPeakBytes}`);
  });
});

describe('runModel inputs', () => {
  it('feeds ids inside the embedding table and ones to masks (an out-of-range id fails in ORT)', async () => {
    const r = await runModel(
      { model: { bytes: encode(embeddingModel(50, 8)), name: 'emb' }, ep: 'cpu', dims: { batch: 2, seq: 16 }, runs: 1 },
      { timeoutMs: 30_000 },
    );
    const ids = r.inputs.find((i) => i.name === 'input_ids')!;
    assert.equal(ids.fill, 'ids');
    assert.equal(ids.idLimit, 50);
    assert.equal(r.inputs.find((i) => i.name === 'attention_mask')!.fill, 'ones');
    assert.equal(r.attribution.nodes.find((n) => n.node === 'embed')!.outputBytes, 2 * 16 * 8 * 4);
  });

  it('binds batch-like dims from the settings, as the estimate does', async () => {
    const r = await runModel({ model: { bytes: encode(chainModel(8)), name: 'chain' }, ep: 'cpu', settings: { batch: 3 }, runs: 1, optimised: false }, { timeoutMs: 30_000 });
    assert.deepEqual(r.inputs[0].shape, [3, 8]);
    assert.equal(r.attribution.nodes[0].outputBytes, 3 * 8 * 4);
  });

  it('refuses a symbolic dim nothing binds, with the flag to set it', async () => {
    await assert.rejects(
      runModel({ model: { bytes: encode(chainModel(8, true, 'rows')), name: 'chain.onnx' }, ep: 'cpu' }, { timeoutMs: 30_000 }),
      (e: unknown) => e instanceof MemlensError && e.message === "chain.onnx: input 'x' axis 0 is symbolic dim 'rows' with no value; pass --dim rows=N",
    );
  });

  it('rejects bytes that are not ONNX with one line', async () => {
    await assert.rejects(
      runModel({ model: { bytes: new Uint8Array([1, 2, 3, 4, 5]), name: 'junk.onnx' } }, { timeoutMs: 30_000 }),
      (e: unknown) => e instanceof MemlensError && e.message.startsWith('junk.onnx: not') && !e.message.includes('\n'),
    );
  });

  it('rejects a missing file', async () => {
    await assert.rejects(runModel({ model: { path: '/nonexistent/m.onnx' } }, { timeoutMs: 30_000 }), /\/nonexistent\/m\.onnx: no such file/);
  });
});

describe('runModel with weights that are not here', () => {
  it('materialises placeholder weights with seeded random values and runs', async () => {
    const bytes = encode(chainModel(H, false));
    assert.ok(bytes.length < 4096, 'the encoded model carries no weight bytes');
    const r = await runModel({ model: { bytes, name: 'placeholders' }, ep: 'cpu', dims: { batch: 4 }, runs: 1 }, { timeoutMs: 30_000 });
    assert.deepEqual(r.materialised, { tensors: 2, bytes: H * H * 4 + H * 4 });
    assert.equal(r.attribution.nodes[0].parameterBytes, H * H * 4);
    assert.equal(r.attribution.nodes[3].outputBytes, 4 * H * 4);
  });

  it('materialises weights whose external file is missing, keeping the model file untouched', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-ext-'));
    try {
      const file = path.join(dir, 'm.onnx');
      fs.writeFileSync(file, encode(chainModel(H, false)));
      const before = fs.readFileSync(file);
      const r = await runModel({ model: { path: file }, ep: 'cpu', dims: { batch: 2 }, runs: 1, optimised: false }, { timeoutMs: 30_000 });
      assert.equal(r.materialised?.tensors, 2);
      assert.deepEqual(fs.readFileSync(file), before);
      assert.deepEqual(fs.readdirSync(dir), ['m.onnx']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an external location that climbs out of the model folder, creating nothing outside the run', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-escape-'));
    const victim = `memlens-escape-${process.pid}.bin`;
    try {
      fs.mkdirSync(path.join(dir, 'model'));
      fs.writeFileSync(path.join(dir, victim), Buffer.alloc(H * 4));
      for (const loc of [`../${victim}`, `sub/../../${victim}`, path.join(dir, victim)]) {
        // W stays a placeholder (so the run materialises), b points at a file that exists outside.
        const pb = ModelProto.decode(encode(chainModel(H, false))) as unknown as PbModel;
        const b = pb.graph?.initializer?.find((t) => t.name === 'b');
        assert.ok(b);
        b.externalData = [{ key: 'location', value: loc }];
        const file = path.join(dir, 'model', 'm.onnx');
        fs.writeFileSync(file, ModelProto.encode(pb).finish());
        await assert.rejects(
          runModel({ model: { path: file }, ep: 'cpu', dims: { batch: 2 }, runs: 1 }, { timeoutMs: 30_000 }),
          (e: unknown) => e instanceof MemlensError && e.message.includes(`initializer 'b' has external data at '${loc}', outside the model's folder; refused`) && !e.message.includes('\n'),
        );
        assert.equal(fs.existsSync(path.join(os.tmpdir(), victim)), false, `${loc}: a link was planted outside the run directory`);
        assert.deepEqual(fs.readdirSync(path.join(dir, 'model')), ['m.onnx']);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses up front when the weights exceed the memory limit, quoting the bytes', async () => {
    const h = 16384; // 16384^2 * 4 = 1 GiB of W
    await assert.rejects(
      runModel({ model: { bytes: encode(chainModel(h, false)), name: 'big' }, ep: 'cpu', dims: { batch: 1 } }, { timeoutMs: 30_000, memoryLimitBytes: 256 * 2 ** 20 }),
      (e: unknown) => e instanceof MemlensError && e.message === `big: weights need ${h * h * 4 + h * 4} bytes (1.0 GiB), over the memory limit of 256.0 MiB; raise the limit or run a smaller configuration`,
    );
  });
});

describe('runModel execution providers', () => {
  it('auto falls back to cpu here and says why each GPU provider did not run', async () => {
    const r = await runModel({ model: { bytes: encode(chainModel(16)), name: 'chain' }, ep: 'auto', dims: { batch: 1 }, runs: 1, optimised: false }, { timeoutMs: 60_000 });
    assert.equal(r.ep, 'cpu');
    assert.deepEqual(r.providers.map((p) => p.ep), ['cuda', 'webgpu', 'cpu']);
    const cuda = r.providers[0];
    assert.equal(cuda.status, 'skipped');
    assert.match(cuda.reason, /provider libraries not installed \(install onnxruntime-node without ONNXRUNTIME_NODE_INSTALL=skip\)/);
    const webgpu = r.providers[1];
    assert.notEqual(webgpu.status, 'ran');
    assert.ok(webgpu.reason.length > 0 && !webgpu.reason.includes('\n'), webgpu.reason);
    assert.deepEqual(r.providers[2], { ep: 'cpu', status: 'ran', reason: '' });
  });

  it('an explicit GPU provider that cannot run is an error naming why, never a run on cpu', async () => {
    await assert.rejects(
      runModel({ model: { bytes: encode(chainModel(16)), name: 'chain' }, ep: 'cuda', dims: { batch: 1 }, runs: 1, optimised: false }, { timeoutMs: 60_000 }),
      (e: unknown) => e instanceof MemlensError && /^chain: --ep cuda cannot run here \(provider libraries not installed/.test(e.message),
    );
  });

  it('rejects an unknown provider name', async () => {
    await assert.rejects(
      runModel({ model: { bytes: encode(chainModel(16)) }, ep: 'tpu' as never }, { timeoutMs: 1000 }),
      /unknown execution provider 'tpu' \(use one of auto, cpu, cuda, webgpu, dml, coreml\)/,
    );
  });
});

describe('runModel stops runs that go wrong, and the caller keeps working', () => {
  it('stops a hang (Loop with 2^53 trips) at the time limit', async () => {
    let pid = 0;
    const t0 = Date.now();
    await assert.rejects(
      runModel({ model: { bytes: encode(endlessLoopModel()), name: 'loop' }, ep: 'cpu', runs: 1 }, { timeoutMs: 2000, onStart: (p) => (pid = p) }),
      (e: unknown) => e instanceof MemlensError && /^model run timed out after 2 s \(while run 1 of 1 on cpu \(optimisations disabled\)\)$/.test(e.message),
    );
    const took = Date.now() - t0;
    assert.ok(took >= 2000 && took < 10_000, `stopped after ${took} ms`);
    assert.ok(pid > 0 && !alive(pid), 'the run process is gone');
    await chainStillRuns();
  });

  it('kills a run whose RSS goes over the memory limit (ConstantOfShape to 8 GiB)', async () => {
    let pid = 0;
    await assert.rejects(
      runModel({ model: { bytes: encode(hugeAllocationModel(2 ** 31)), name: 'huge' }, ep: 'cpu', runs: 1 }, { timeoutMs: 60_000, memoryLimitBytes: 512 * 2 ** 20, onStart: (p) => (pid = p) }),
      (e: unknown) => {
        if (!(e instanceof MemlensError)) return false;
        const m = /^model run ran out of memory: RSS ([\d.]+) MiB over the limit of 512\.0 MiB \(while run 1 of 1 on cpu/.exec(e.message);
        return m !== null && Number(m[1]) > 512;
      },
    );
    assert.ok(pid > 0 && !alive(pid));
    await chainStillRuns();
  });

  it('reports a native crash of the run process (SIGSEGV mid-run) with the stage it was in', async () => {
    let pid = 0;
    const run = runModel({ model: { bytes: encode(endlessLoopModel()), name: 'loop' }, ep: 'cpu', runs: 1 }, { timeoutMs: 60_000, onStart: (p) => (pid = p) });
    // Wait until the Loop is running (the process is then busy inside ORT's native code).
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(pid, 'SIGSEGV');
    await assert.rejects(run, (e: unknown) => e instanceof MemlensError && /^model run crashed with signal SIGSEGV \(while run 1 of 1 on cpu/.test(e.message));
    assert.ok(!alive(pid));
    await chainStillRuns();
  });

  it('cancels through an AbortSignal', async () => {
    const ac = new AbortController();
    let pid = 0;
    const run = runModel({ model: { bytes: encode(endlessLoopModel()), name: 'loop' }, ep: 'cpu', runs: 1 }, { timeoutMs: 60_000, signal: ac.signal, onStart: (p) => (pid = p) });
    setTimeout(() => ac.abort(), 1000);
    await assert.rejects(run, (e: unknown) => e instanceof MemlensError && e.message.startsWith('model run cancelled (while '));
    assert.ok(!alive(pid));
  });
});
