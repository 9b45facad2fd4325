// Applying rewrites: plain edits become a WorkspaceEdit (one undo step, previewable), a refusal
// is one clear message, and after a rewrite lands the file is saved and profiled again so the
// figures show the change.
import * as vscode from 'vscode';
import type { PlainEdit } from '../../language/plain-edit';
import type { Profiler } from './profiler';
import { currentSettings } from './settings';

export const AFTER_REWRITE_COMMAND = 'memlens.afterRewrite';

export function documentEdit(uri: vscode.Uri, edits: readonly PlainEdit[], metadata: vscode.WorkspaceEditEntryMetadata): vscode.WorkspaceEdit {
  const edit = new vscode.WorkspaceEdit();
  for (const e of edits) {
    edit.replace(uri, new vscode.Range(e.start.line, e.start.character, e.end.line, e.end.character), e.newText, metadata);
  }
  return edit;
}

export function refuse(message: string): void {
  void vscode.window.showWarningMessage(`MemLens: ${message}`);
}

/**
 * After a rewrite: saves the rewritten document (the front ends read files from disk) and
 * profiles again. Saving profiles the document itself when memlens.profileOnSave is on; the
 * model the figures came from (another file that imports it) is profiled explicitly.
 */
export function registerAfterRewrite(profiler: Profiler): vscode.Disposable {
  return vscode.commands.registerCommand(AFTER_REWRITE_COMMAND, async (uri: vscode.Uri, profileUri: vscode.Uri) => {
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (document?.isDirty && !(await document.save())) return;
    const onSave = currentSettings(uri).profileOnSave;
    if (profileUri.toString() !== uri.toString() || !onSave) await profiler.profile(profileUri, { reason: 'command' });
  });
}
