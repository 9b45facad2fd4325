// The harness installs a VSIX into a fresh extensions dir and the real extension host activates
// it: a small probe extension (packaged here with vsce) shows a status bar item and runs a command
// from the command palette that reports the line the cursor is on.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { artifactsDir } from './harness/paths';
import { startSession, type Session } from './harness/session';
import { packageVsix } from './harness/vsix';

const probeManifest = {
  name: 'harness-probe',
  displayName: 'Harness Probe',
  description: 'Checks that the end-to-end harness installs and activates an extension.',
  publisher: 'memlens',
  version: '0.0.1',
  engines: { vscode: '^1.100.0' },
  activationEvents: ['onStartupFinished'],
  main: './extension.js',
  contributes: {
    commands: [{ command: 'harnessProbe.reportLine', title: 'Report Cursor Line', category: 'Harness Probe' }],
  },
};

const probeSource = `
const vscode = require('vscode');
exports.activate = (context) => {
  const item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 100);
  item.text = 'Harness probe active';
  item.show();
  context.subscriptions.push(item, vscode.commands.registerCommand('harnessProbe.reportLine', () => {
    const editor = vscode.window.activeTextEditor;
    const line = editor ? editor.selection.active.line + 1 : 0;
    vscode.window.showInformationMessage('Harness probe: cursor on line ' + line);
  }));
};
exports.deactivate = () => {};
`;

let temp: string;
let session: Session | undefined;

before(async () => {
  temp = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-probe-'));
  const extensionDir = path.join(temp, 'extension');
  const workspace = path.join(temp, 'workspace');
  fs.mkdirSync(extensionDir);
  fs.mkdirSync(workspace);
  fs.writeFileSync(path.join(extensionDir, 'package.json'), JSON.stringify(probeManifest, null, 2));
  fs.writeFileSync(path.join(extensionDir, 'extension.js'), probeSource);
  fs.writeFileSync(path.join(extensionDir, 'README.md'), '# Harness Probe\n\nUsed by the end-to-end harness tests.\n');
  fs.writeFileSync(path.join(workspace, 'model.py'), 'import torch\n\n\nclass Net(torch.nn.Module):\n    pass\n');
  const logs = artifactsDir('harness-extension');
  const vsix = await packageVsix(extensionDir, path.join(temp, 'harness-probe.vsix'), logs);
  session = await startSession({ name: 'harness-extension', workspace, extensions: [vsix] });
});

after(async () => {
  await session?.close();
  fs.rmSync(temp, { recursive: true, force: true });
});

test('the installed extension is listed in the fresh extensions dir', () => {
  assert.ok(session);
  const installed = fs.readdirSync(session.server.extensionsDir).filter((entry) => !entry.startsWith('.') && entry !== 'extensions.json');
  assert.deepEqual(installed, ['memlens.harness-probe-0.0.1']);
});

test('the extension host activates it and its command runs from the palette', { timeout: 90_000 }, async () => {
  assert.ok(session);
  const { workbench } = session;
  assert.equal(await workbench.waitForStatusBarItem(/Harness probe active/, 'the probe extension to activate'), 'Harness probe active');
  await workbench.openFile('model.py');
  await workbench.goToLine(4);
  await workbench.waitForCursorLine(4);
  await workbench.runCommand('Harness Probe: Report Cursor Line');
  const message = await workbench.waitForNotification(/Harness probe: cursor on line \d+/, 'the probe command to report');
  assert.match(message, /Harness probe: cursor on line 4/);
  await workbench.screenshot('probe-command');
});
