// The ONNX Runtime run process under the supervisor: what it writes is kept as a bounded tail,
// a message that is not a run message ends the run with one line, and nothing is left in $TMPDIR
// or in the user's cache after a run (ONNX Runtime 1.30's telemetry writes `.ses`,
// `mat-debug-<pid>.log` and a device id there unless it is switched off).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MemlensError } from '../../../extension/engine/errors';
import { runModel } from '../../../extension/runner/run';
import { withEnv } from '../../fixtures/env';
import { chainModel, encode } from './models';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-run-limits-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const chain = () => ({ model: { bytes: encode(chainModel(16)), name: 'chain' }, ep: 'cpu' as const, dims: { batch: 2 }, runs: 1, optimised: true });

/** A module Node loads into the run process before the worker (NODE_OPTIONS=--require). */
function preload(name: string, code: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, code);
  return `--require=${file}`;
}

describe('runModel and its run process', () => {
  it('keeps a bounded tail of what the run process writes, and ends with its last line', async () => {
    // Written synchronously (retrying while the pipe is full), so the worker never starts.
    const noisy = preload('noisy.js', [
      "const fs = require('fs');",
      'for (let i = 0; i < 100000; i++) {',
      "  const b = Buffer.from('noise line ' + i + ' ' + 'x'.repeat(40) + '\\n');",
      "  for (let off = 0; off < b.length;) { try { off += fs.writeSync(2, b, off); } catch (e) { if (e.code !== 'EAGAIN') throw e; } }",
      '}',
      'process.exit(7);',
    ].join('\n'));
    await withEnv({ NODE_OPTIONS: noisy }, () => assert.rejects(runModel(chain(), { timeoutMs: 30_000 }), (e: unknown) => {
      assert.ok(e instanceof MemlensError);
      assert.equal(e.message, `model run exited with code 7 (while starting): noise line 99999 ${'x'.repeat(40)}`);
      return true;
    }));
  });

  it('stops a run process that sends a message the runner does not know, with one line', async () => {
    const rogue = preload('rogue.js', "process.send({ type: 'result', result: { ep: 'tpu' } }); setInterval(() => {}, 1000);");
    await withEnv({ NODE_OPTIONS: rogue }, () => assert.rejects(runModel(chain(), { timeoutMs: 30_000 }), (e: unknown) => {
      assert.ok(e instanceof MemlensError);
      assert.equal(e.message, 'model run sent an invalid reply: result.ep is "tpu", expected one of "cpu", "cuda", "webgpu", "dml", "coreml" (while starting)');
      return true;
    }));
  });

  it('leaves nothing in a private $TMPDIR or cache directory', async () => {
    const tmp = fs.mkdtempSync(path.join(dir, 'tmp-'));
    const cache = fs.mkdtempSync(path.join(dir, 'cache-'));
    // ONNX Runtime skips its telemetry on CI machines by itself; this is a user's machine.
    const ci = { CI: undefined, GITHUB_ACTIONS: undefined, TF_BUILD: undefined, GITLAB_CI: undefined, APPVEYOR: undefined, ORT_DISABLE_TELEMETRY: undefined };
    const result = await withEnv({ ...ci, TMPDIR: tmp, XDG_CACHE_HOME: cache }, () => runModel(chain(), { timeoutMs: 60_000 }));
    assert.equal(result.attribution.nodes.length, 4, 'the run itself worked');
    assert.deepEqual(fs.readdirSync(tmp), []);
    assert.deepEqual(fs.readdirSync(cache), []);
  });
});
