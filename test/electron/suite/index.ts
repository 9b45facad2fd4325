// Runs inside desktop VS Code's extension host (test-electron): the extension activates, profiles
// an ONNX model whose nodes point at a source file, reports the over-budget lines as problems, and
// writes a Chrome trace. Each check throws on failure; test-electron reports the first one.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { GraphBuilder } from '../../fixtures/graph-builder';

function tinyModel(source: string): Uint8Array {
  const at = (line: number) => ({ 'memlens.file': source, 'memlens.line': String(line) });
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [8, 512]);
  const h = b.one('MatMul', [x, b.weight('W1', [512, 2048])], { name: 'fc1', metadata: at(1) });
  b.one('MatMul', [h, b.weight('W2', [2048, 512])], { name: 'fc2', outputs: ['y'], metadata: at(2) });
  b.output('y', 'float32', [8, 512]);
  return encodeModel(b.model());
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function run(): Promise<void> {
  const workspace = process.env.MEMLENS_TEST_WORKSPACE;
  assert.ok(workspace, 'MEMLENS_TEST_WORKSPACE is not set');
  const source = path.join(workspace, 'layers.txt');
  fs.writeFileSync(source, 'fc1\nfc2\n');
  const model = path.join(workspace, 'tiny.onnx');
  fs.writeFileSync(model, tinyModel(source));

  const extension = vscode.extensions.getExtension('memlens.memlens');
  assert.ok(extension, 'the MemLens extension is not installed');
  await extension.activate();

  // 8 MiB of weights alone: a 1 MiB budget puts fc1's and fc2's lines over it.
  await vscode.workspace.getConfiguration('memlens').update('budget', '1MiB', vscode.ConfigurationTarget.Global);
  await vscode.commands.executeCommand('memlens.profile', vscode.Uri.file(model));
  const problems = await until('over-budget problems', () => {
    const d = vscode.languages.getDiagnostics(vscode.Uri.file(source));
    return d.length > 0 ? d : undefined;
  });
  assert.ok(problems.every((d) => d.code === 'memlens.overBudget'));
  assert.deepEqual(problems.map((d) => d.range.start.line).sort(), [0, 1]);
  await vscode.workspace.getConfiguration('memlens').update('budget', undefined, vscode.ConfigurationTarget.Global);
}
