import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GiveUpWaiting, TimeoutError, waitUntil, withTimeout } from '../../e2e/harness/wait';
import { parseCursorStatus } from '../../e2e/harness/workbench';

test('waitUntil returns the first value the probe gives', async () => {
  let calls = 0;
  const value = await waitUntil('the third call', 2_000, () => (++calls === 3 ? `call ${calls}` : undefined), 10);
  assert.equal(value, 'call 3');
});

test('waitUntil times out naming what it waited for and the last error', async () => {
  await assert.rejects(
    waitUntil('a server', 100, () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:9\nsecond line');
    }, 20),
    (error: unknown) =>
      error instanceof TimeoutError &&
      error.message === 'timed out after 100 ms waiting for a server (last error: connect ECONNREFUSED 127.0.0.1:9)',
  );
});

test('waitUntil stops at once when the probe gives up', async () => {
  const started = Date.now();
  await assert.rejects(
    waitUntil('a server', 10_000, () => {
      throw new GiveUpWaiting('the server exited');
    }),
    /the server exited/,
  );
  assert.ok(Date.now() - started < 1_000);
});

test('withTimeout passes a result through and rejects a promise that never settles', async () => {
  assert.equal(await withTimeout('a quick answer', 1_000, Promise.resolve(42)), 42);
  await assert.rejects(withTimeout('an answer', 50, new Promise<never>(() => undefined)), {
    name: 'TimeoutError',
    message: 'timed out after 50 ms waiting for an answer',
  });
});

test('parseCursorStatus reads the status bar text', () => {
  assert.deepEqual(parseCursorStatus('Ln 12, Col 5'), { line: 12, column: 5 });
  assert.deepEqual(parseCursorStatus('Ln 3, Col 1 (7 selected)'), { line: 3, column: 1 });
  assert.equal(parseCursorStatus('Spaces: 4'), undefined);
});
