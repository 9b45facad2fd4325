// The packaged layout works on its own: dist/ built by scripts/bundle.mjs into a temporary folder,
// then the engine bundle profiles and runs a model (the run process from dist/worker.js with the
// onnxruntime-node copied into dist/node_modules), the bundled tracer traces a TypeScript model
// against the shared `memlens/nn` runtime, the engine worker thread profiles a file from
// dist/engine-worker.js, and the CLI bundle prints a profile.
import { isTorchMeasured } from '../../../extension/engine/measured-torch';
import assert from 'node:assert/strict';
import { execFileSync, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { withDefaults } from '../../../extension/engine/settings';
import { repoRoot } from '../../fixtures/repo-root';
import { GraphBuilder } from '../../fixtures/graph-builder';
import type { EngineApi } from '../../../extension/vscode/engine-loader';
import type { WorkerMessage, WorkerReply } from '../../../extension/presentation/engine-protocol';

let dist: string;
let work: string;

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-bundle-'));
  dist = path.join(work, 'dist');
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'bundle.mjs'), '--outdir', dist], { cwd: repoRoot, stdio: 'pipe' });
}, { timeout: 180_000 });

after(() => fs.rmSync(work, { recursive: true, force: true }));

/** x[4,64] -> MatMul W[64,256] (line 7 of mlp.ts) -> Relu (line 8). */
function smallModel(): string {
  const b = new GraphBuilder();
  const at = (line: number) => ({ 'memlens.file': path.join(work, 'mlp.ts'), 'memlens.line': String(line) });
  const x = b.input('x', 'float32', [4, 64]);
  const h = b.one('MatMul', [x, b.weight('W', [64, 256])], { name: 'fc', metadata: at(7) });
  b.one('Relu', [h], { name: 'relu', outputs: ['y'], metadata: at(8) });
  b.output('y', 'float32', [4, 256]);
  const file = path.join(work, 'small.onnx');
  fs.writeFileSync(file, encodeModel(b.model()));
  return file;
}

test('the start-up bundle leaves the engine, ts-morph and onnxruntime out', () => {
  const text = fs.readFileSync(path.join(dist, 'extension.js'), 'utf8');
  assert.doesNotMatch(text, /function analyzeModel\(/);
  assert.doesNotMatch(text, /ts-morph/);
  assert.match(text, /require\("vscode"\)/);
  assert.ok(fs.statSync(path.join(dist, 'extension.js')).size < 200 * 1024);
  for (const f of ['engine.js', 'engine-worker.js', 'cli.js', 'worker.js', 'trace-worker.js', 'ts-morph.js', 'api/nn.js', 'api/runtime.js', 'api/nn.d.ts', 'webview.js', 'webview.css',
    'web-tree-sitter.wasm', 'tree-sitter-python.wasm', 'python-bridge/export_onnx.py', 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node']) {
    assert.ok(fs.existsSync(path.join(dist, f)), `dist/${f} is missing`);
  }
  // The webview is one self-contained script: chart.js inside, nothing loaded at run time (the
  // nonce CSP allows no other script), and no trace of the archived webview UI toolkit.
  const web = fs.readFileSync(path.join(dist, 'webview.js'), 'utf8');
  assert.doesNotMatch(web, /\brequire\(|\bimport\(|\beval\(|new Function\(/);
  assert.doesNotMatch(web, /webview-ui-toolkit|@microsoft\/fast-/);
  assert.match(web, /memlensMarks/);
  // Only this platform's onnxruntime binaries are shipped.
  assert.deepEqual(fs.readdirSync(path.join(dist, 'node_modules/onnxruntime-node/bin/napi-v6')), ['linux']);
});

test('the engine bundle profiles an ONNX file and measures it on ONNX Runtime from dist/', { timeout: 120_000 }, async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the bundle under test, by its path in dist/
  const api = require(path.join(dist, 'engine.js')) as EngineApi;
  const file = smallModel();
  const settings = withDefaults({});
  const { profile } = await api.profileFile({ file, settings, trusted: false, timeoutMs: 30_000 });
  // At Relu: weights 64*256*4 = 65536 + x 1024 + h 4096 + y 4096 (a graph output, so not written into h) = 74752 B.
  assert.equal(profile.peak.bytes, 65_536 + 1_024 + 4_096 + 4_096);
  const measured = await api.measureFile({ file, settings, trusted: false, timeoutMs: 60_000, ep: 'cpu' });
  const m = measured.profile.measured;
  assert.ok(m && !isTorchMeasured(m), 'an ONNX Runtime measurement');
  assert.equal(m.ep, 'cpu');
  const nodes = m.perNode.map((n) => n.node).sort();
  assert.deepEqual(nodes, ['fc', 'relu']);
  // The MatMul's output is 4 x 256 fp32.
  assert.equal(m.perNode.find((n) => n.node === 'fc')!.outputBytes, 4_096);
});

test('ts-morph is one shared bundle, loaded by the engine only for TypeScript discovery', { timeout: 60_000 }, () => {
  for (const f of ['engine.js', 'engine-worker.js', 'cli.js', 'trace-worker.js']) {
    const text = fs.readFileSync(path.join(dist, f), 'utf8');
    assert.match(text, /require\("\.\/ts-morph\.js"\)/, `dist/${f} requires the shared ts-morph bundle`);
    assert.ok(text.length < 4 * 1024 * 1024, `dist/${f} is ${text.length} bytes: ts-morph is bundled into it`);
  }
  // In a fresh process: loading the engine and profiling an ONNX file leaves ts-morph unloaded;
  // finding a TypeScript file's entries loads it.
  const ts = path.join(repoRoot, 'samples', 'gpt2.ts');
  const script = `
    const api = require(${JSON.stringify(path.join(dist, 'engine.js'))});
    const loaded = () => Object.keys(require.cache).some((k) => k.endsWith('ts-morph.js'));
    (async () => {
      const before = loaded();
      await api.profileFile({ file: ${JSON.stringify(smallModel())}, settings: ${JSON.stringify(withDefaults({}))}, trusted: false, timeoutMs: 30000 });
      const afterOnnx = loaded();
      const entries = await api.modelEntries('typescript', ${JSON.stringify(ts)}, require('fs').readFileSync(${JSON.stringify(ts)}, 'utf8'));
      process.stdout.write(JSON.stringify({ before, afterOnnx, afterTs: loaded(), entries: entries.map((e) => e.name) }));
    })();`;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as { before: boolean; afterOnnx: boolean; afterTs: boolean; entries: string[] };
  assert.deepEqual(out, { before: false, afterOnnx: false, afterTs: true, entries: ['gpt2', 'gpt2Decode'] });
});

test('every script bundled into dist/ is kept in the VSIX (.vscodeignore is an allowlist)', () => {
  const kept = new Set(fs.readFileSync(path.join(repoRoot, '.vscodeignore'), 'utf8').split('\n').filter((l) => l.startsWith('!dist/')).map((l) => l.slice(1)));
  for (const f of fs.readdirSync(dist).filter((x) => x.endsWith('.js'))) assert.ok(kept.has(`dist/${f}`), `.vscodeignore drops dist/${f}`);
});

test('the bundled engine worker profiles a file in a worker thread from dist/, first figures then the profile', { timeout: 60_000 }, async () => {
  const file = smallModel();
  const worker = new Worker(path.join(dist, 'engine-worker.js'));
  try {
    const request: WorkerMessage = { id: 1, kind: 'profile', request: { file, settings: withDefaults({}), trusted: false, timeoutMs: 30_000, first: true } };
    // The worker first says it began the request (its time limit counts from there), then sends
    // the first figures, then the profile.
    const replies = await new Promise<WorkerReply[]>((resolve, reject) => {
      const got: WorkerReply[] = [];
      worker.on('message', (m: WorkerReply) => {
        got.push(m);
        if (m.kind === 'done' || m.kind === 'failed') resolve(got);
      });
      worker.once('error', reject);
      worker.postMessage(request);
    });
    assert.deepEqual(replies.map((r) => r.kind), ['started', 'first', 'done'], JSON.stringify(replies).slice(0, 300));
    const [, first, reply] = replies;
    assert.ok(first.kind === 'first' && reply.kind === 'done' && reply.call === 'profile');
    // The same figure as the engine bundle's in-process profile above, in both steps.
    assert.equal(reply.result.profile.peak.bytes, 65_536 + 1_024 + 4_096 + 4_096);
    assert.equal(first.result.peak.bytes, reply.result.profile.peak.bytes);
  } finally {
    await worker.terminate();
  }
});

test('the bundled tracer traces a TypeScript model against the shared memlens/nn runtime', { timeout: 60_000 }, async () => {
  const reply = await new Promise<{ ok: boolean; entries?: string[]; message?: string }>((resolve, reject) => {
    const child = fork(path.join(dist, 'trace-worker.js'), [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('message', (m: { ok: boolean; entries?: string[]; message?: string }) => resolve(m));
    child.once('exit', (code) => reject(new Error(`trace worker exited with ${code}: ${stderr}`)));
    child.send({ file: path.join(repoRoot, 'samples', 'gpt2.ts'), materialize: false, seed: 0 });
  });
  assert.equal(reply.ok, true, reply.message);
  assert.deepEqual(reply.entries, ['gpt2', 'gpt2Decode']);
});

test('the CLI bundle prints a profile', () => {
  const file = smallModel();
  const out = execFileSync(process.execPath, [path.join(dist, 'cli.js'), 'profile', file], { encoding: 'utf8' });
  assert.match(out, /73\.0 KiB/); // 74752 B
});
