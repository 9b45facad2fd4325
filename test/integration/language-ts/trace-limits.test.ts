// traceFile runs the user's TypeScript under the supervisor: what the model starts dies with it,
// memory (Buffers or the JavaScript heap) is limited with "out of memory" wording, its printing is
// kept as a bounded tail, and a message from the model's own code on the reply channel is refused.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MemlensError } from '../../../extension/engine/errors';
import { OUTPUT_TAIL_BYTES, traceFile } from '../../../language/typescript/trace';
import { alive } from '../../fixtures/processes';

const MIB = 2 ** 20;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-trace-limits-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A one-Linear model file whose module body starts with `prelude`. */
function model(name: string, prelude: string[], forward = 'return this.fc.forward(x);'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, [
    "import * as nn from 'memlens/nn';",
    ...prelude,
    'export class Net extends nn.Module {',
    "  static inputs = { x: nn.input(['batch', 4]) };",
    '  fc = new nn.Linear(4, 2);',
    `  forward(x: nn.Tensor): nn.Tensor { ${forward} }`,
    '}',
  ].join('\n'));
  return file;
}

async function traceError(file: string, options: Parameters<typeof traceFile>[2]): Promise<string> {
  try {
    await traceFile(file, undefined, options);
  } catch (e) {
    assert.ok(e instanceof MemlensError, `a MemlensError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n') && e.message.length <= 300, `one line: ${e.message}`);
    return e.message;
  }
  assert.fail('the trace should have failed');
}

describe('traceFile limits', () => {
  it('kills a process the model started when the trace times out', async () => {
    const pidFile = path.join(dir, 'sleep.pid');
    const file = model('spawner.ts', [
      "import { spawn } from 'child_process';",
      "import { writeFileSync } from 'fs';",
      "const child = spawn('sleep', ['300'], { stdio: 'ignore' });",
      `writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));`,
    ], 'while (true) {}');
    // Long enough for the tracer to start and load the model on a busy machine.
    assert.equal(await traceError(file, { timeoutMs: 8000 }), 'tracing spawner.ts timed out after 8 s');
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    assert.ok(pid > 0 && !alive(pid), `the model's sleep ${pid} is gone`);
  });

  it('stops a model that allocates 6 GiB of Buffers at the memory limit', async () => {
    const file = model('buffers.ts', [
      'const held: Buffer[] = [];',
      'for (let i = 0; i < 24; i++) held.push(Buffer.alloc(256 * 2 ** 20, 1));',
    ]);
    const message = await traceError(file, { timeoutMs: 60_000, memoryLimitBytes: 512 * MIB });
    assert.match(message, /^tracing buffers\.ts ran out of memory: RSS [\d.]+ MiB over the limit of 512\.0 MiB$/);
  });

  it('stops a model that fills the JavaScript heap with "out of memory", not a native frame', async () => {
    const file = model('heap.ts', ['const held: number[][] = [];', 'for (;;) held.push(new Array(1024).fill(held.length));']);
    assert.equal(await traceError(file, { timeoutMs: 60_000, memoryLimitBytes: 256 * MIB }),
      'tracing heap.ts ran out of memory: the JavaScript heap reached its limit of 128.0 MiB');
  });

  it('keeps the last bytes of what the model prints', async () => {
    const file = model('chatty.ts', ["for (let i = 0; i < 100000; i++) console.log('step ' + i + ' ' + '.'.repeat(50));"]);
    const r = await traceFile(file, undefined, { timeoutMs: 60_000 });
    assert.equal(r.model.graph.nodes.filter((n) => n.opType === 'Gemm').length, 1, 'the trace itself worked');
    assert.equal(Buffer.byteLength(r.output), OUTPUT_TAIL_BYTES);
    assert.ok(r.output.endsWith(`step 99999 ${'.'.repeat(50)}\n`));
  });

  it('refuses a reply the model sends itself, with one line', async () => {
    const file = model('rogue.ts', ["process.send!({ ok: 'yes' });", 'setInterval(() => {}, 1000);']);
    assert.equal(await traceError(file, { timeoutMs: 30_000 }), 'tracing rogue.ts sent an invalid reply: ok is "yes", expected one of true, false');
  });

  it('says which import is missing, not that the model file is', async () => {
    const file = model('imports.ts', ["import { helper } from './no-such-helper';", 'void helper;']);
    const message = await traceError(file, { timeoutMs: 30_000 });
    assert.match(message, /Cannot find module '\.\/no-such-helper'/);
    assert.doesNotMatch(message, /file not found/);
  });
});
