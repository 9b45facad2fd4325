// The engine worker (presentation/engine-client.ts): profiles come back from the worker thread
// exactly as profileFile makes them in-process, errors keep their one line and their name, and a
// 100k-output Split (seconds of synchronous passes) is cancelled or stopped by its time limit
// promptly, while this thread stays free (a timer keeps firing during the analysis). A profile
// asked for in two steps sends its first figures, the profile's own values, before the profile,
// and cancelling after the first step still answers at once; a request waiting behind a
// cancelled one that had to be stopped is sent again to the new worker, not failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { profileFile } from '../../../extension/analysis/profile-file';
import { fitForFile, suggestForFile } from '../../../extension/analysis/suggest-file';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { withDefaults } from '../../../extension/engine/settings';
import { EngineClient } from '../../../extension/presentation/engine-client';
import type { FirstFigures } from '../../../extension/engine/analyze';
import { modelEntries } from '../../../extension/presentation/model-entries';
import { sourceRewriter } from '../../../language/source-rewrites';
import { GraphBuilder, int } from '../../fixtures/graph-builder';
import { syntheticDecoder } from '../../fixtures/synthetic-decoder';
import { repoRoot } from '../../fixtures/repo-root';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-engine-client-'));
test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

function splitFile(n: number): string {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', [n, 4]);
  for (const o of g.op('Split', [x], { outputs: n, attrs: { axis: int(0), num_outputs: int(n) } })) g.output(o, 'float32', [1, 4]);
  const file = path.join(dir, `split-${n}.onnx`);
  fs.writeFileSync(file, encodeModel(g.model(18)));
  return file;
}

const request = (file: string, timeoutMs = 120_000) => ({ file, settings: withDefaults({}), trusted: false, timeoutMs });

/** Longest gap between ticks of a 20 ms timer on this thread while `work` runs. */
async function longestStall<T>(work: Promise<T>): Promise<{ result: PromiseSettledResult<T>; stallMs: number }> {
  let last = Date.now(), stallMs = 0;
  const timer = setInterval(() => {
    stallMs = Math.max(stallMs, Date.now() - last);
    last = Date.now();
  }, 20);
  const [result] = await Promise.allSettled([work]);
  clearInterval(timer);
  return { result, stallMs };
}

test('a profile from the worker equals profileFile in this thread', async () => {
  const file = path.join(repoRoot, 'test', 'fixtures', 'models', 'resnet18.onnx');
  const client = new EngineClient();
  try {
    const fromWorker = await client.profile(request(file));
    const here = await profileFile(request(file));
    assert.deepEqual(fromWorker, here);
  } finally {
    await client.stop();
  }
});

/** x[64,512] -> MatMul W1[512,2048] -> Relu -> MatMul W2[2048,512] -> y. */
function mlpFile(): string {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [64, 512]);
  const h = b.one('Relu', [b.one('MatMul', [x, b.weight('W1', [512, 2048])])]);
  b.one('MatMul', [h, b.weight('W2', [2048, 512])], { outputs: ['y'] });
  b.output('y', 'float32', [64, 512]);
  const file = path.join(dir, 'mlp.onnx');
  fs.writeFileSync(file, encodeModel(b.model()));
  return file;
}

test('suggestions and a budget plan from the worker equal those made in this thread', async () => {
  const file = mlpFile();
  const req = { ...request(file), settings: withDefaults({ mode: 'train' }), files: [] };
  const client = new EngineClient();
  try {
    const set = await client.suggest(req);
    assert.ok(set.items.length > 0, 'the MLP has suggestions');
    assert.deepEqual(set, await suggestForFile(req));
    const budget = Math.floor(set.peakBytes * 0.8);
    assert.deepEqual(await client.fit(req, budget, 'onnx'), await fitForFile(req, budget, 'onnx'));
  } finally {
    await client.stop();
  }
});

test('entry discovery of samples/gpt2.ts from the worker equals modelEntries in this thread', async () => {
  const file = path.join(repoRoot, 'samples', 'gpt2.ts');
  const text = fs.readFileSync(file, 'utf8');
  const client = new EngineClient();
  try {
    const entries = await client.entries('typescript', file, text);
    assert.deepEqual(entries.map((e) => e.name), ['gpt2', 'gpt2Decode']);
    assert.deepEqual(entries, await modelEntries('typescript', file, text));
  } finally {
    await client.stop();
  }
});

test('placements of the gpt2.ts suggestions from the worker equal the rewriter\'s in this thread', async () => {
  const file = path.join(repoRoot, 'samples', 'gpt2.ts');
  const text = fs.readFileSync(file, 'utf8');
  const set = await suggestForFile({ ...request(file), trusted: true, files: [] });
  const suggestions = set.items.map((i) => i.suggestion);
  const client = new EngineClient();
  try {
    const placed = await client.place('typescript', suggestions, file, text, file);
    const rewriter = await sourceRewriter('typescript');
    const here = [];
    for (const s of suggestions) here.push(await rewriter.place(s, file, text, file));
    assert.ok(here.some((p) => p !== null), 'some suggestion has a place in gpt2.ts');
    assert.deepEqual(placed, here);
  } finally {
    await client.stop();
  }
});

test('a user error comes back as a MemlensError with its one line', async () => {
  const client = new EngineClient();
  const missing = path.join(dir, 'missing.onnx');
  try {
    await assert.rejects(client.profile(request(missing)), (e: unknown) =>
      e instanceof Error && e.name === 'MemlensError' && e.message.includes('missing.onnx') && !e.message.includes('\n') && e.message.length <= 300);
  } finally {
    await client.stop();
  }
});

test('cancelling a 100k-output Split answers at once, stops the worker, and the next request works', async () => {
  const file = splitFile(100_000);
  const client = new EngineClient();
  try {
    const controller = new AbortController();
    const t0 = Date.now();
    const work = client.profile({ ...request(file), signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    const { result, stallMs } = await longestStall(work);
    assert.ok(result.status === 'rejected' && result.reason instanceof Error && result.reason.name === 'AbortError', 'rejected with an AbortError');
    assert.ok(Date.now() - t0 < 1500, `cancel answered after ${Date.now() - t0} ms`);
    assert.ok(stallMs < 250, `this thread stalled ${stallMs} ms`);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(client.running, false, 'the busy worker was terminated after the grace');
    const small = await client.profile(request(splitFile(10)));
    assert.equal(small.profile.plan.offsetPlanBytes, 10 * 16);
  } finally {
    await client.stop();
  }
});

test('the time limit stops a long analysis with one line naming the file', async () => {
  const file = splitFile(100_000);
  const client = new EngineClient();
  try {
    // A warm worker: the limit counts from when the worker begins a request, after its start-up.
    await client.profile(request(splitFile(10)));
    const t0 = Date.now();
    await assert.rejects(client.profile(request(file, 400)), (e: unknown) =>
      e instanceof Error && e.name === 'MemlensError' && /^analysing split-100000\.onnx timed out after/.test(e.message) && !e.message.includes('\n'));
    assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
    assert.equal(client.running, false);
  } finally {
    await client.stop();
  }
});

test('a profile in two steps: the first figures are the profile\'s own, and come before it', async () => {
  const file = path.join(repoRoot, 'test', 'fixtures', 'models', 'resnet18.onnx');
  const client = new EngineClient();
  try {
    const firsts: FirstFigures[] = [];
    let settled = false;
    const outcome = await client.profile({
      ...request(file),
      onFirst: (f) => {
        assert.equal(settled, false, 'the first figures come before the profile');
        firsts.push(f);
      },
    }).finally(() => (settled = true));
    assert.equal(firsts.length, 1);
    const [first] = firsts;
    const { profile } = outcome;
    // Every field the first step has, the profile has with the same value (toProfile adds, changes nothing).
    const picked = Object.fromEntries(Object.keys(first).map((k) => [k, profile[k as keyof typeof profile]]));
    assert.deepEqual(first, picked);
    assert.equal(Object.getPrototypeOf(first.settings.dims), null, 'the dim table is null-prototype again');
    assert.deepEqual(outcome, await profileFile(request(file)), 'asking for the first figures changes nothing in the profile');
  } finally {
    await client.stop();
  }
});

test('cancelling a two-step profile after its first figures answers at once; nothing more arrives', async () => {
  const file = splitFile(100_000);
  const client = new EngineClient();
  try {
    const controller = new AbortController();
    let firsts = 0, abortedAt = 0;
    const work = client.profile({
      ...request(file),
      signal: controller.signal,
      onFirst: () => {
        firsts++;
        // The offset plan and the timeline of 100k buffers are still to come.
        abortedAt = Date.now();
        controller.abort();
      },
    });
    await assert.rejects(work, (e: unknown) => e instanceof Error && e.name === 'AbortError');
    assert.ok(Date.now() - abortedAt < 200, `cancel answered ${Date.now() - abortedAt} ms after the abort`);
    assert.equal(firsts, 1);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(firsts, 1, 'no first figures after the cancel');
  } finally {
    await client.stop();
  }
});

test('a request waiting behind a cancelled analysis that had to be stopped is sent again, not failed', async () => {
  const big = splitFile(100_000);
  const client = new EngineClient();
  try {
    const controller = new AbortController();
    const stuck = client.profile({ ...request(big), signal: controller.signal });
    // Queued behind the synchronous passes of the big Split in the same worker.
    const small = client.profile(request(splitFile(12)));
    setTimeout(() => controller.abort(), 300);
    await assert.rejects(stuck, (e: unknown) => e instanceof Error && e.name === 'AbortError');
    const outcome = await small;
    assert.equal(outcome.profile.plan.offsetPlanBytes, 12 * 16);
  } finally {
    await client.stop();
  }
});

test('a profile asked for while suggestions are made runs between their candidates, before the set is done', async () => {
  // Eight candidates, each a whole analysis of a rewritten 24-layer decoder (seconds in all).
  const decoder = path.join(dir, 'decoder-24.onnx');
  fs.writeFileSync(decoder, encodeModel(syntheticDecoder({ layers: 24, hidden: 1024, heads: 16, kvHeads: 4, ffn: 4096, vocab: 32000 })));
  const settings = withDefaults({ mode: 'train', batch: 1, seq: 128, dims: { past_sequence: 128, total_sequence: 256 } });
  const client = new EngineClient();
  try {
    await client.profile(request(splitFile(12))); // the worker started and warm
    const order: string[] = [];
    const set = client.suggest({ ...request(decoder), settings, files: [] }).then((s) => { order.push('suggestions'); return s; });
    await new Promise((r) => setTimeout(r, 500)); // loaded and analysed: into its candidates
    const profile = client.profile(request(splitFile(12))).then((p) => { order.push('profile'); return p; });
    const [s] = await Promise.all([set, profile]);
    assert.ok(s.items.length >= 4, `${s.items.length} suggestions`);
    assert.deepEqual(order, ['profile', 'suggestions']);
    // Cancelled while its candidates are analysed, the set is answered at once and the next works.
    const controller = new AbortController();
    const again = client.suggest({ ...request(decoder), settings, files: [], signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    await assert.rejects(again, (e: unknown) => e instanceof Error && e.name === 'AbortError');
    assert.equal((await client.profile(request(splitFile(12)))).profile.plan.offsetPlanBytes, 12 * 16);
  } finally {
    await client.stop();
  }
});
