// The end-to-end harness's process handling with real processes: stopping a process ends the
// whole group it started, a process that ignores SIGTERM is killed, and runToCompletion reports
// failures and time-outs with the output.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { ManagedProcess, processGroupMembers, runToCompletion } from '../../e2e/harness/processes';
import { waitUntil } from '../../e2e/harness/wait';

const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-proc-test-'));
after(() => fs.rmSync(logDir, { recursive: true, force: true }));

test('stop() ends the process and the children it started', async () => {
  const proc = ManagedProcess.start('sleepers', '/bin/sh', ['-c', 'sleep 60 & sleep 60 & echo started; wait'], {
    logFile: path.join(logDir, 'sleepers.log'),
  });
  // The shell and its two sleeps.
  await waitUntil('three processes in the group', 5_000, () => processGroupMembers(proc.pid).length === 3);
  await waitUntil('the shell to print', 5_000, () => proc.output().includes('started'));
  await proc.stop();
  assert.deepEqual(processGroupMembers(proc.pid), []);
  assert.equal(fs.readFileSync(path.join(logDir, 'sleepers.log'), 'utf8'), 'started\n');
});

test('stop() kills a process that ignores SIGTERM after the grace period', async () => {
  const proc = ManagedProcess.start('stubborn', '/bin/sh', ['-c', 'trap "" TERM; echo ready; while :; do sleep 0.1; done'], {
    logFile: path.join(logDir, 'stubborn.log'),
  });
  await waitUntil('the trap to be set', 5_000, () => proc.output().includes('ready'));
  const started = Date.now();
  await proc.stop(300);
  const took = Date.now() - started;
  assert.deepEqual(processGroupMembers(proc.pid), []);
  assert.ok(took >= 300 && took < 5_000, `stop took ${took} ms`);
});

test('runToCompletion returns the output of a command that succeeds', async () => {
  const output = await runToCompletion('echo', '/bin/sh', ['-c', 'echo hello; echo world >&2'], {
    logFile: path.join(logDir, 'echo.log'),
    timeoutMs: 5_000,
  });
  assert.equal(output, 'hello\nworld\n');
});

test('runToCompletion names a failing command, its exit code and its output', async () => {
  await assert.rejects(
    runToCompletion('failing step', '/bin/sh', ['-c', 'echo broken input; exit 3'], {
      logFile: path.join(logDir, 'fail.log'),
      timeoutMs: 5_000,
    }),
    /^Error: e2e harness: failing step exited with 3\n--- output \(.*fail\.log\) ---\nbroken input\n$/,
  );
});

test('runToCompletion stops a command that runs past its bound', async () => {
  const started = Date.now();
  await assert.rejects(
    runToCompletion('slow step', '/bin/sh', ['-c', 'echo waiting; sleep 30'], {
      logFile: path.join(logDir, 'slow.log'),
      timeoutMs: 300,
    }),
    /^Error: e2e harness: timed out after 300 ms waiting for slow step to finish\n--- slow step output .*\nwaiting\n$/,
  );
  assert.ok(Date.now() - started < 5_000);
});
