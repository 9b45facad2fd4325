// The kept trace worker: one process serves trace after trace, reflects every edit, gives the
// same graph as a one-shot trace, and keeps the one-shot's limits: a request past its time limit
// stops the worker (the next trace starts a new one). A caller that is done exits while the
// worker is idle, and the worker goes with it.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { stopTraceWorker, traceFile } from '../../../language/typescript/trace';
import { TranspileCache } from '../../../language/typescript/ts-loader';
import { alive, waitForPid } from '../../fixtures/processes';
import { repoRoot } from '../../fixtures/repo-root';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-trace-kept-'));
after(async () => {
  await stopTraceWorker();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A model of `layers` Linear layers, its width from a second file it imports. */
function writeModel(layers: number, forward = 'let y = x; for (const l of this.fcs) y = l.forward(y); return y;'): string {
  fs.writeFileSync(path.join(dir, 'width.ts'), 'export const WIDTH = 8;\n');
  const file = path.join(dir, 'net.ts');
  fs.writeFileSync(file, [
    "import * as nn from 'memlens/nn';",
    "import { WIDTH } from './width';",
    'export class Net extends nn.Module {',
    "  static inputs = { x: nn.input(['batch', WIDTH]) };",
    `  fcs = Array.from({ length: ${layers} }, () => new nn.Linear(WIDTH, WIDTH));`,
    `  forward(x: nn.Tensor): nn.Tensor { ${forward} }`,
    '}',
  ].join('\n'));
  return file;
}

describe('kept trace worker', () => {
  it('serves traces in one process, follows edits, and gives what a one-shot trace gives', async () => {
    const file = writeModel(2);
    const first = await traceFile(file, undefined, { keepWorker: true });
    const edited = writeModel(3);
    const second = await traceFile(edited, undefined, { keepWorker: true });
    assert.equal(second.workerPid, first.workerPid, 'the same worker traced both');
    assert.ok(second.workerPid !== null && alive(second.workerPid), 'the worker stays alive between traces');
    const gemms = (m: typeof first.model) => m.graph.nodes.filter((n) => n.opType === 'Gemm' || n.opType === 'MatMul').length;
    assert.equal(gemms(first.model), 2);
    assert.equal(gemms(second.model), 3, 'the edit is traced');
    const oneShot = await traceFile(edited, undefined, {});
    assert.notEqual(oneShot.workerPid, second.workerPid);
    assert.deepEqual(encodeModel(second.model), encodeModel(oneShot.model), 'kept and one-shot traces give the same ONNX bytes');
  });

  it('gives the last trace again, without running the model, while the request and its sources are unchanged', async () => {
    const runs = path.join(dir, 'runs.txt');
    fs.writeFileSync(runs, '');
    const file = writeModel(2, `require('fs').appendFileSync(${JSON.stringify(runs)}, 'x'); console.log('traced'); let y = x; for (const l of this.fcs) y = l.forward(y); return y;`);
    const ran = () => fs.readFileSync(runs, 'utf8').length;
    const first = await traceFile(file, undefined, { keepWorker: true });
    const again = await traceFile(file, undefined, { keepWorker: true });
    assert.equal(first.reused, false);
    assert.equal(again.reused, true, 'an unchanged request over unchanged sources is reused');
    assert.equal(ran(), 1, 'the model ran once');
    assert.deepEqual(encodeModel(again.model), encodeModel(first.model));
    assert.equal(again.graphHash, first.graphHash);
    assert.equal(again.output, first.output, 'what the model printed comes with the reused trace');
    assert.match(again.output, /traced/);
    // Naming the entry a request without one took (the file's first) is the same trace.
    const named = await traceFile(file, 'Net', { keepWorker: true });
    assert.equal(named.reused, true, 'the first entry by name is the default entry');
    await assert.rejects(traceFile(file, 'Other', { keepWorker: true }), /no entry "Other" in net\.ts/);
    assert.equal(ran(), 1, 'neither ran the model again');
    // Another request (a config override), then the same file saved with the same text: the
    // first runs the model, the second does not.
    assert.equal((await traceFile(file, undefined, { keepWorker: true, config: { unused: 1 } })).reused, false);
    assert.equal((await traceFile(file, undefined, { keepWorker: true, config: { unused: 1 } })).reused, true);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8'));
    assert.equal((await traceFile(file, undefined, { keepWorker: true, config: { unused: 1 } })).reused, true);
    assert.equal(ran(), 2);
    // An edit of the file it imports is a change: traced again, with the new width.
    fs.writeFileSync(path.join(dir, 'width.ts'), 'export const WIDTH = 16;\n');
    const widened = await traceFile(file, undefined, { keepWorker: true, config: { unused: 1 } });
    assert.equal(widened.reused, false);
    assert.equal(ran(), 3);
    assert.deepEqual(widened.model.graph.inputs[0].shape, ['batch', 16]);
  });

  it('kills what a trace started once it has replied, and keeps the worker', async () => {
    const pidFile = path.join(dir, 'sleep.pid');
    const spawner = writeModel(1, [
      `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(require('child_process').spawn('sleep', ['300'], { stdio: 'ignore' }).pid));`,
      'return this.fcs[0].forward(x);',
    ].join(' '));
    const r = await traceFile(spawner, undefined, { keepWorker: true });
    const sleepPid = Number(fs.readFileSync(pidFile, 'utf8'));
    await waitForPid(sleepPid, false, 5000);
    assert.ok(sleepPid > 0 && !alive(sleepPid), `the model's sleep ${sleepPid} is gone`);
    assert.ok(r.workerPid !== null && alive(r.workerPid), 'the worker itself stays');
  });

  it('answers a cancelled trace at once and keeps the worker warm for the next', async () => {
    const before = await traceFile(writeModel(1), undefined, { keepWorker: true });
    const slow = writeModel(1, 'const end = Date.now() + 1500; while (Date.now() < end) {} return this.fcs[0].forward(x);');
    const controller = new AbortController();
    const started = Date.now();
    const cancelled = traceFile(slow, undefined, { keepWorker: true, signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(cancelled, /cancelled/);
    assert.ok(Date.now() - started < 1400, `answered before the trace ended (${Date.now() - started} ms)`);
    const next = await traceFile(writeModel(2), undefined, { keepWorker: true });
    assert.equal(next.workerPid, before.workerPid, 'the same worker, after the cancelled trace finished');
  });

  it('stops the worker at a request\'s time limit; the next trace starts a new one', async () => {
    const before = await traceFile(writeModel(1), undefined, { keepWorker: true });
    const hung = writeModel(1, 'while (true) {} return x;');
    await assert.rejects(traceFile(hung, undefined, { keepWorker: true, timeoutMs: 3000 }), /tracing net\.ts timed out after 3 s/);
    await waitForPid(before.workerPid!, false, 5000);
    assert.ok(!alive(before.workerPid!), 'the stuck worker is gone');
    const after = await traceFile(writeModel(1), undefined, { keepWorker: true });
    assert.notEqual(after.workerPid, before.workerPid);
  });

  it('holds the memory limit over the worker\'s life and keeps each trace\'s printing apart', async () => {
    const MIB = 2 ** 20;
    const quiet = await traceFile(writeModel(1), undefined, { keepWorker: true, memoryLimitBytes: 512 * MIB });
    assert.equal(quiet.output, '');
    const chatty = writeModel(1, "console.log('hello from forward'); return this.fcs[0].forward(x);");
    const r = await traceFile(chatty, undefined, { keepWorker: true, memoryLimitBytes: 512 * MIB });
    assert.equal(r.workerPid, quiet.workerPid);
    assert.equal(r.output.split('\n').filter((l) => l === 'hello from forward').length, 1, r.output);
    const hog = writeModel(1, 'const held: Buffer[] = []; for (let i = 0; i < 24; i++) held.push(Buffer.alloc(256 * 2 ** 20, 1)); return x;');
    await assert.rejects(traceFile(hog, undefined, { keepWorker: true, memoryLimitBytes: 512 * MIB, timeoutMs: 60_000 }),
      /tracing net\.ts ran out of memory: RSS [\d.]+ MiB over the limit of 512\.0 MiB$/);
  });

  it('lets a caller that is done exit while the worker is idle, and the worker exits with it', () => {
    const file = writeModel(1);
    const script = `
      const { traceFile } = require(${JSON.stringify(path.join(repoRoot, 'out', 'language', 'typescript', 'trace.js'))});
      traceFile(${JSON.stringify(file)}, undefined, { keepWorker: true }).then((r) => console.log(r.workerPid));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const pid = Number(r.stdout.trim());
    assert.ok(pid > 0);
    return waitForPid(pid, false, 5000).then(() => assert.ok(!alive(pid), 'the idle worker left with its caller'));
  });
});

describe('transpile cache', () => {
  it('transpiles a file again only when its text changed', () => {
    const cache = new TranspileCache();
    const a = cache.get('export const a: number = 1;', '/m/a.ts');
    assert.equal(cache.get('export const a: number = 1;', '/m/a.ts'), a);
    assert.equal(cache.transpiled, 1);
    assert.match(cache.get('export const a: number = 2;', '/m/a.ts'), /exports\.a = 2/);
    cache.get('export const b = 1;', '/m/b.ts');
    assert.equal(cache.transpiled, 3);
  });
});
