// The supervisor on real children (sh, Python, Node): limits on the whole process tree, the exit
// status as the end, escalation from SIGTERM to SIGKILL, escaped daemons found and killed,
// checked messages, bounded output, the child's own temp directory removed.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { endingMessage } from '../../../extension/process/ending';
import { object, str } from '../../../extension/process/check';
import { superviseChild } from '../../../extension/process/supervisor';
import { alive, waitForPid } from '../../fixtures/processes';

const PY = '/usr/bin/python3';
const MIB = 2 ** 20;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-supervisor-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function nodeModule(name: string, code: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, code);
  return file;
}

const sh = (script: string) => ({ kind: 'exec' as const, command: '/bin/sh', args: ['-c', script] });

describe('superviseChild', () => {
  it('reports a clean exit and a non-zero exit by their status', async () => {
    const ok = await superviseChild({ what: 'sh', program: sh('echo hi; echo err >&2'), limits: { timeoutMs: 10_000 } });
    assert.deepEqual(ok.ending, { kind: 'exited', code: 0 });
    assert.equal(ok.stdout.text, 'hi\n');
    assert.equal(ok.stderr.text, 'err\n');
    const bad = await superviseChild({ what: 'sh', program: sh('exit 3'), limits: { timeoutMs: 10_000 } });
    assert.deepEqual(bad.ending, { kind: 'exited', code: 3 });
    assert.equal(endingMessage('sh', bad.ending, { lastError: 'boom' }), 'sh exited with code 3: boom');
  });

  it('kills the whole group at the time limit, a grandchild included', async () => {
    const pidFile = path.join(dir, 'grandchild.pid');
    const t0 = Date.now();
    const run = await superviseChild({ what: 'sh', program: sh(`sleep 300 & echo $! > ${pidFile}; wait`), limits: { timeoutMs: 1500 } });
    assert.deepEqual(run.ending, { kind: 'timeout', limitMs: 1500 });
    assert.ok(Date.now() - t0 < 6000, `ended after ${Date.now() - t0} ms`);
    const grandchild = Number(fs.readFileSync(pidFile, 'utf8'));
    assert.ok(grandchild > 0 && !alive(grandchild), `grandchild ${grandchild} is gone`);
    assert.equal(endingMessage('sh', run.ending), 'sh timed out after 1.5 s');
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const t0 = Date.now();
    const run = await superviseChild({ what: 'sh', program: sh("trap '' TERM; while :; do sleep 0.05; done"), limits: { timeoutMs: 500, killGraceMs: 700 } });
    const took = Date.now() - t0;
    assert.equal(run.ending.kind, 'timeout');
    assert.ok(took >= 1200 && took < 5000, `SIGKILL after the grace period: ${took} ms`);
    assert.ok(run.pid !== null && !alive(run.pid));
  });

  it('ends at the exit status while a start_new_session daemon holds the pipes, and kills the daemon', async () => {
    const pidFile = path.join(dir, 'daemon.pid');
    const script = [
      'import subprocess, sys',
      // The daemon inherits stdout and stderr, leaves the process group and the session.
      "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'], start_new_session=True)",
      `open(${JSON.stringify(pidFile)}, 'w').write(str(p.pid))`,
      "print('done')",
    ].join('\n');
    const t0 = Date.now();
    const run = await superviseChild({ what: 'python', program: { kind: 'exec', command: PY, args: ['-c', script] }, limits: { timeoutMs: 20_000 }, userCode: true });
    assert.deepEqual(run.ending, { kind: 'exited', code: 0 });
    assert.ok(Date.now() - t0 < 8000, `finished after ${Date.now() - t0} ms, not at the time limit`);
    assert.equal(run.stdout.text, 'done\n');
    const daemon = Number(fs.readFileSync(pidFile, 'utf8'));
    await waitForPid(daemon, false, 3000);
    assert.ok(!alive(daemon), `daemon ${daemon} is gone`);
  });

  it('finds a daemon that escaped before any poll by the run marker in its environment', async () => {
    const pidFile = path.join(dir, 'double-fork.pid');
    // Double fork: the intermediate exits at once, the daemon is reparented and in a new session.
    const script = [
      'import os, time',
      'if os.fork() == 0:',
      '    os.setsid()',
      '    if os.fork() == 0:',
      `        open(${JSON.stringify(pidFile)}, 'w').write(str(os.getpid()))`,
      '        os.close(1); os.close(2)',
      '        time.sleep(300)',
      '    os._exit(0)',
      'os.wait()',
      'time.sleep(0.5)',
    ].join('\n');
    const run = await superviseChild({ what: 'python', program: { kind: 'exec', command: PY, args: ['-c', script] }, limits: { timeoutMs: 20_000 }, userCode: true });
    assert.deepEqual(run.ending, { kind: 'exited', code: 0 });
    const daemon = Number(fs.readFileSync(pidFile, 'utf8'));
    await waitForPid(daemon, false, 3000);
    assert.ok(!alive(daemon), `daemon ${daemon} is gone`);
  });

  it('limits the resident memory of the tree: a grandchild that allocates stops the run', async () => {
    // The direct child stays small; the grandchild writes 2 GiB.
    const grow = `${PY} -c "import time; b = bytearray(b'\\x01') * (2 << 30); time.sleep(60)"`;
    const run = await superviseChild({ what: 'sh', program: sh(`${grow}; sleep 60`), limits: { timeoutMs: 60_000, memoryBytes: 256 * MIB } });
    assert.equal(run.ending.kind, 'memory');
    if (run.ending.kind !== 'memory') return;
    assert.equal(run.ending.limitBytes, 256 * MIB);
    assert.ok(run.ending.residentBytes > 256 * MIB);
    assert.ok((run.treePeakRssBytes ?? 0) > 256 * MIB);
    assert.match(endingMessage('sh', run.ending), /^sh ran out of memory: RSS [\d.]+ (MiB|GiB) over the limit of 256\.0 MiB$/);
  });

  it('stops a Node child that runs out of its V8 heap with "out of memory", not a native frame', async () => {
    const module = nodeModule('heap.js', "process.once('message', () => { const a = []; for (;;) a.push(new Array(1024).fill(a.length)); });");
    const run = await superviseChild({ what: 'node heap', program: { kind: 'node', module, request: {} }, limits: { timeoutMs: 60_000, memoryBytes: 256 * MIB } });
    assert.deepEqual(run.ending, { kind: 'heap', heapLimitBytes: 128 * MIB });
    assert.equal(endingMessage('node heap', run.ending), 'node heap ran out of memory: the JavaScript heap reached its limit of 128.0 MiB');
    assert.match(run.stderr.text, /JavaScript heap out of memory/, "V8's own banner is what told the cause");
  });

  it('keeps a fixed tail of what a child prints', async () => {
    const run = await superviseChild({
      what: 'python', program: { kind: 'exec', command: PY, args: ['-c', "import sys\nfor i in range(200_000): sys.stdout.write('line %d\\n' % i)"] },
      limits: { timeoutMs: 60_000, outputBytes: 4096 },
    });
    assert.deepEqual(run.ending, { kind: 'exited', code: 0 });
    assert.equal(Buffer.byteLength(run.stdout.text), 4096);
    assert.ok(run.stdout.text.endsWith('line 199999\n'));
    assert.ok(run.stdout.droppedBytes > MIB);
  });

  it('cancels through an AbortSignal, before and during the run', async () => {
    const early = new AbortController();
    early.abort();
    assert.deepEqual((await superviseChild({ what: 'sh', program: sh('sleep 10'), limits: { timeoutMs: 10_000 }, signal: early.signal })).ending, { kind: 'cancelled' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const run = await superviseChild({ what: 'sh', program: sh('sleep 30'), limits: { timeoutMs: 30_000 }, signal: ac.signal });
    assert.deepEqual(run.ending, { kind: 'cancelled' });
    assert.ok(run.elapsedMs < 5000);
  });

  it('checks IPC messages: a valid one is the reply, an invalid one stops the child with its reason', async () => {
    const reply = object({ answer: str });
    const good = nodeModule('good.js', "process.once('message', (m) => process.send({ answer: 'got ' + m.q }, () => process.exit(0)));");
    const ok = await superviseChild({ what: 'node', program: { kind: 'node', module: good, request: { q: 'x' } }, limits: { timeoutMs: 20_000 }, messages: reply });
    assert.deepEqual(ok.reply, { answer: 'got x' });
    const bad = nodeModule('bad.js', "process.once('message', () => { process.send({ answer: 42 }); setInterval(() => {}, 1000); });");
    const run = await superviseChild({ what: 'node', program: { kind: 'node', module: bad, request: {} }, limits: { timeoutMs: 20_000 }, messages: reply });
    assert.deepEqual(run.ending, { kind: 'invalid-message', reason: 'answer is 42, expected a string' });
    assert.equal(run.reply, null);
    assert.equal(endingMessage('node', run.ending), 'node sent an invalid reply: answer is 42, expected a string');
  });

  it('gives the child its own TMPDIR and removes it', async () => {
    const run = await superviseChild({ what: 'sh', program: sh('echo "$TMPDIR"; touch "$TMPDIR/left-behind"'), limits: { timeoutMs: 10_000 } });
    const tmp = run.stdout.text.trim();
    assert.ok(tmp.startsWith(path.join(os.tmpdir(), 'memlens-child-')), tmp);
    assert.ok(!fs.existsSync(tmp), 'removed with what the child wrote there');
  });

  it('says when a program is not there', async () => {
    const run = await superviseChild({ what: 'nothing', program: { kind: 'exec', command: '/nonexistent/tool', args: [] }, limits: { timeoutMs: 10_000 } });
    assert.equal(run.ending.kind, 'not-started');
    assert.ok(run.ending.kind === 'not-started' && run.ending.notFound);
  });
});
