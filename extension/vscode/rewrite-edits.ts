// Applying rewrites: plain edits become a WorkspaceEdit (one undo step, previewable), a refusal
// is one clear message, and after a rewrite lands the file is saved and profiled again so the
// figures show the change (and the timeline draws the profile from before it beside the new one).
import * as vscode from 'vscode';
import type { PlainEdit } from '../../language/plain-edit';
import type { ProfileStore } from './profile-store';
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

/** What a rewrite did, for the timeline: `checkpoint the blocks` at 0-based `line` of the rewritten file. */
export interface RewriteNote {
  action: string;
  line: number | null;
}

/** The 0-based line of the first edit that is not an import at the top, where a fix "was applied". */
export function fixLine(document: vscode.TextDocument, edits: readonly PlainEdit[]): number | null {
  const lines = edits.map((e) => e.start.line).filter((l) => l < document.lineCount && !/^\s*(import|from)\b/.test(document.lineAt(l).text));
  return lines.length > 0 ? Math.min(...lines) : null;
}

/**
 * After a rewrite: saves the rewritten document (the front ends read files from disk) and
 * profiles again. Saving profiles the document itself when memlens.profileOnSave is on; the
 * model the figures came from (another file that imports it) is profiled explicitly. The
 * profile from before the rewrite is kept for the timeline to draw beside the new one.
 */
export function registerAfterRewrite(profiler: Profiler, store: ProfileStore): vscode.Disposable {
  return vscode.commands.registerCommand(AFTER_REWRITE_COMMAND, async (uri: vscode.Uri, profileUri: vscode.Uri, note?: RewriteNote) => {
    const previous = store.get(profileUri)?.profile;
    if (previous && note) {
      store.expectFix(profileUri, { action: note.action, file: uri.fsPath, line: note.line === null ? null : note.line + 1, previous });
    }
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (document?.isDirty && !(await document.save())) return;
    const onSave = currentSettings(uri).profileOnSave;
    if (profileUri.toString() !== uri.toString() || !onSave) await profiler.profile(profileUri, { reason: 'command' });
  });
}
