// Run directories left by a process killed with SIGKILL (extension/process/run-dir.ts): a real
// supervising Node process is killed while its child runs, its child's TMPDIR stays, and the next
// process's first run directory there removes it once it is stale; live owners' directories,
// young ones, other hosts' and ones without an owner record stay.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeRunDir, OWNER_FILE, STALE_AFTER_MS, sweepStaleRunDirs } from '../../../extension/process/run-dir';
import { alive, waitForPid } from '../../fixtures/processes';

const RUN_DIR = path.join(__dirname, '../../../extension/process/run-dir.js');
const SUPERVISOR = path.join(__dirname, '../../../extension/process/supervisor.js');
const top = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-run-dir-test-'));
after(() => fs.rmSync(top, { recursive: true, force: true }));

/** Sets a directory's owner record back past the stale age. */
function age(dir: string): void {
  const then = new Date(Date.now() - STALE_AFTER_MS - 60_000);
  fs.utimesSync(path.join(dir, OWNER_FILE), then, then);
}

const entries = (parent: string) => fs.readdirSync(parent).sort();

/** A Node process supervising `sleep 300` with TMPDIR=parent; resolves with both pids once the child runs. */
function supervisingProcess(parent: string): Promise<{ owner: number; child: number }> {
  const code = `require(${JSON.stringify(SUPERVISOR)}).superviseChild({ what: 'sleeper', program: { kind: 'exec', command: '/bin/sleep', args: ['300'] },
    limits: { timeoutMs: 600000 }, onStart: (pid) => console.log('child ' + pid) });`;
  const owner = spawn(process.execPath, ['-e', code], { env: { ...process.env, TMPDIR: parent }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    owner.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /child (\d+)/.exec(out);
      if (m) resolve({ owner: owner.pid!, child: Number(m[1]) });
    });
    owner.on('exit', () => reject(new Error(`the supervising process ended first: ${out}`)));
  });
}

describe('run directories of a killed process', () => {
  it('a supervisor killed with SIGKILL leaves its child\'s TMPDIR; the next process removes it once stale, and only it', async () => {
    const parent = fs.mkdtempSync(path.join(top, 'tmp-'));
    const { owner, child } = await supervisingProcess(parent);
    process.kill(owner, 'SIGKILL');
    await waitForPid(owner, false, 10_000);
    process.kill(-child, 'SIGKILL'); // the orphaned child leads its own group
    await waitForPid(child, false, 10_000);
    assert.ok(!alive(owner) && !alive(child));
    const [left] = entries(parent);
    assert.match(left, /^memlens-child-/);
    assert.equal((JSON.parse(fs.readFileSync(path.join(parent, left, OWNER_FILE), 'utf8')) as { pid: number }).pid, owner);

    // Beside it: a live owner's directory (this process), one without a record, and another host's.
    const live = makeRunDir('memlens-child-', parent);
    const foreign = path.join(parent, 'memlens-child-foreign');
    fs.mkdirSync(foreign);
    const remote = path.join(parent, 'memlens-child-remote');
    fs.mkdirSync(remote);
    fs.writeFileSync(path.join(remote, OWNER_FILE), JSON.stringify({ pid: owner, host: `${os.hostname()}-other`, started: null }));

    // Young, the dead owner's directory stays (a namespace sharing this host name may still use it).
    execFileSync(process.execPath, ['-e', `require(${JSON.stringify(RUN_DIR)}).makeRunDir('memlens-child-', ${JSON.stringify(parent)})`]);
    assert.ok(fs.existsSync(path.join(parent, left)));
    for (const d of [path.join(parent, left), live, remote]) age(d);
    execFileSync(process.execPath, ['-e', `require(${JSON.stringify(RUN_DIR)}).makeRunDir('memlens-child-', ${JSON.stringify(parent)})`]);
    const now = entries(parent);
    assert.ok(!now.includes(left), `${left} removed`);
    for (const kept of [live, foreign, remote]) assert.ok(now.includes(path.basename(kept)), `${kept} kept`);
    // The two later processes' own directories were made and, their owners gone, are young.
    assert.equal(now.length, 3 + 2);
  });

  it('a pid a later process took is not the owner: its start time differs', () => {
    const parent = fs.mkdtempSync(path.join(top, 'tmp-'));
    const reused = path.join(parent, 'memlens-run-reused');
    fs.mkdirSync(reused);
    fs.writeFileSync(path.join(reused, OWNER_FILE), JSON.stringify({ pid: process.pid, host: os.hostname(), started: '1' }));
    age(reused);
    assert.deepEqual(sweepStaleRunDirs(parent, 'memlens-run-'), [reused]);
  });

  it('a zombie owner (ended, not yet reaped by its parent) is dead', async () => {
    const parent = fs.mkdtempSync(path.join(top, 'tmp-'));
    // A Python parent forks a child that exits at once and does not reap it for a while.
    const py = spawn('python3', ['-c', 'import os, sys, time\npid = os.fork()\nif pid == 0: os._exit(0)\nprint(pid, flush=True)\ntime.sleep(30)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const zombie = await new Promise<number>((resolve) => py.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    try {
      await waitForPid(zombie, false, 10_000);
      const started = fs.readFileSync(`/proc/${zombie}/stat`, 'utf8').split(') ')[1].split(' ')[19];
      const dir = path.join(parent, 'memlens-run-zombie');
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify({ pid: zombie, host: os.hostname(), started }));
      age(dir);
      assert.deepEqual(sweepStaleRunDirs(parent, 'memlens-run-'), [dir]);
    } finally {
      py.kill('SIGKILL');
    }
  });

  it('a folder that is not there sweeps nothing and says nothing', () => {
    assert.deepEqual(sweepStaleRunDirs(path.join(top, 'absent'), 'memlens-run-'), []);
  });
});
