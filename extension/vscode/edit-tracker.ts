// Which files were edited since the profile that describes them. Their figures and problems
// would sit on lines that moved, so the features hide them until the next profile of the file
// (or an Undo back to the text that was profiled).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ModelProfile, ProfileStore } from './profile-store';

/** unsaved: the editor's text differs from the file; saved: the file on disk changed too. */
type Edited = 'unsaved' | 'saved';

const keyOf = (file: string) => path.resolve(file);

export class EditTracker implements vscode.Disposable {
  private readonly edited = new Map<string, Edited>();
  /** The profile last seen per model uri: a new one describes its files' text as it is now. */
  private readonly seen = new Map<string, ModelProfile>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly store: ProfileStore) {
    this.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.scheme !== 'file' || e.contentChanges.length === 0) return;
        const key = keyOf(e.document.uri.fsPath);
        const now = this.edited.get(key);
        if (e.document.isDirty && !now) this.set(key, 'unsaved');
        // Undo (or revert) back to the saved text, which is the text that was profiled.
        else if (!e.document.isDirty && now === 'unsaved') this.set(key, undefined);
      }),
      vscode.workspace.onDidSaveTextDocument((d) => {
        const key = keyOf(d.uri.fsPath);
        if (this.edited.get(key) === 'unsaved') this.set(key, 'saved');
      }),
      store.onDidChange((uri) => this.profiled(uri)),
    );
  }

  /** Whether `file` was edited since the profile that describes it. */
  isEdited(file: string): boolean {
    return this.edited.has(keyOf(file));
  }

  private profiled(uri: vscode.Uri): void {
    const found = this.store.get(uri);
    if (!found || this.seen.get(uri.toString()) === found) return;
    this.seen.set(uri.toString(), found);
    let any = this.edited.delete(keyOf(uri.fsPath));
    for (const l of found.profile.lines) if (l.file !== null) any = this.edited.delete(keyOf(l.file)) || any;
    if (any) this.changed.fire();
  }

  private set(key: string, state: Edited | undefined): void {
    if (state) this.edited.set(key, state);
    else this.edited.delete(key);
    this.changed.fire();
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}
