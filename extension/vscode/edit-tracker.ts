// Which files were edited since the profile that describes them. Their figures and problems
// would sit on lines that moved, so the features hide them until the next profile of the file
// (or an Undo back to the text that was profiled).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ModelProfile, ProfileStore } from './profile-store';

/**
 * unsaved: the editor's text differs from the file, which still has the profiled text (kept in
 * `profiled` once read, so that Undo back to it shows the figures again); saved: the file changed.
 */
interface Edited {
  state: 'unsaved' | 'saved';
  profiled?: string;
}

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
        if (e.document.uri.scheme === 'file' && e.contentChanges.length > 0) this.edit(e.document);
      }),
      vscode.workspace.onDidSaveTextDocument((d) => {
        const now = this.edited.get(keyOf(d.uri.fsPath));
        if (!now) return;
        if (now.profiled !== undefined && d.getText() === now.profiled) this.set(keyOf(d.uri.fsPath), undefined);
        else now.state = 'saved';
      }),
      store.onDidChange((uri) => this.profiled(uri)),
    );
  }

  private edit(document: vscode.TextDocument): void {
    const key = keyOf(document.uri.fsPath);
    const now = this.edited.get(key);
    if (!now) {
      const entry: Edited = { state: 'unsaved' };
      this.set(key, entry);
      // The file on disk still holds the text before this first edit (the dirty flag reaches the
      // extension host after the change event, so it cannot tell an Undo back to the saved text).
      void vscode.workspace.fs.readFile(document.uri).then((bytes) => {
        entry.profiled = Buffer.from(bytes).toString('utf8');
        if (this.edited.get(key) === entry && document.getText() === entry.profiled) this.set(key, undefined);
      }, () => undefined);
    } else if (now.state === 'unsaved' && now.profiled !== undefined && document.getText() === now.profiled) {
      this.set(key, undefined);
    }
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
