// The end-to-end harness against a real VS Code: start code-server on a temporary folder, open a
// file through quick open, read its text and the cursor line back, screenshot, and tear down
// without leaving processes behind.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { liveChildren, processGroupMembers } from './harness/processes';
import { startSession, type Session } from './harness/session';

const lines = ['alpha: first line', 'beta: second line', 'gamma: third line', 'delta: fourth line', 'epsilon: fifth line'];

let workspace: string;
let session: Session | undefined;

before(async () => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-smoke-ws-'));
  fs.writeFileSync(path.join(workspace, 'notes.txt'), `${lines.join('\n')}\n`);
  fs.mkdirSync(path.join(workspace, 'nested'));
  fs.writeFileSync(path.join(workspace, 'nested', 'other.txt'), 'other file\n');
  session = await startSession({ name: 'harness-smoke', workspace });
});

after(async () => {
  await session?.close();
  fs.rmSync(workspace, { recursive: true, force: true });
});

function current(): Session {
  assert.ok(session, 'the session did not start');
  return session;
}

test('quick open shows the file text in the editor', { timeout: 60_000 }, async () => {
  const { workbench } = current();
  await workbench.openFile('notes.txt');
  const shown = await workbench.visibleEditorLines();
  assert.deepEqual(shown.slice(0, lines.length), lines);
  assert.deepEqual(await workbench.cursorPosition(), { line: 1, column: 1 });
});

test('go to line moves the cursor and the status bar reads it back', { timeout: 60_000 }, async () => {
  const { workbench } = current();
  await workbench.goToLine(4, 3);
  assert.deepEqual(await workbench.waitForCursorLine(4), { line: 4, column: 3 });
  const png = await workbench.screenshot('notes-line-4');
  // A PNG of the 1400x900 viewport: the signature, then IHDR width and height.
  const header = fs.readFileSync(png).subarray(0, 24);
  assert.equal(header.subarray(1, 4).toString('ascii'), 'PNG');
  assert.equal(header.readUInt32BE(16), 1400);
  assert.equal(header.readUInt32BE(20), 900);
});

test('the command palette runs a command by its title', { timeout: 60_000 }, async () => {
  const { workbench } = current();
  await workbench.openFile('nested/other.txt');
  await workbench.runCommand('View: Close All Editors');
  await workbench.waitForSelector('.part.editor .tab', { what: 'all editor tabs to close', state: 'detached' });
});

test('a wait that cannot succeed fails within its bound and says what it waited for', { timeout: 30_000 }, async () => {
  const { workbench } = current();
  const started = Date.now();
  await assert.rejects(
    workbench.waitForSelector('.no-such-element', { what: 'an element no view has', timeoutMs: 500 }),
    /^TimeoutError: timed out after 500 ms waiting for an element no view has \(selector \.no-such-element, state visible\)$/,
  );
  assert.ok(Date.now() - started < 5_000);
});

test('closing the session leaves no code-server or Chromium process behind', { timeout: 60_000 }, async () => {
  const s = current();
  const pgid = s.server.process.pid;
  assert.ok(processGroupMembers(pgid).length >= 2, 'code-server should run its server and helpers while open');
  assert.ok(liveChildren(process.pid).length >= 2, 'code-server and Chromium should be children of this process');
  await s.close();
  session = undefined;
  assert.deepEqual(processGroupMembers(pgid), []);
  assert.deepEqual(liveChildren(process.pid), []);
});
