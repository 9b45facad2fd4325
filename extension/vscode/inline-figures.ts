// Per-line figures at the end of each model line, coloured by share of the peak. Three
// decoration types (one per colour) are created once; each line sets its text through
// renderOptions; redraws are debounced. A file edited since its profile shows none until the
// next profile (its lines moved), or until Undo brings back the profiled text.
import * as vscode from 'vscode';
import { lineDecorations, type InlineDetail } from '../presentation/line-figures';
import type { ShareLevel } from '../presentation/share';
import type { EditTracker } from './edit-tracker';
import type { ProfileStore } from './profile-store';
import { currentSettings } from './settings';

const LEVELS: readonly ShareLevel[] = ['low', 'medium', 'high'];
const DEBOUNCE_MS = 100;

export class InlineFigures implements vscode.Disposable {
  private readonly types: Record<ShareLevel, vscode.TextEditorDecorationType>;
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: ProfileStore,
    private readonly edits: EditTracker,
  ) {
    const make = (level: ShareLevel) =>
      vscode.window.createTextEditorDecorationType({
        after: { color: new vscode.ThemeColor(`memlens.inline.${level}`), margin: '0 0 0 2em', fontStyle: 'normal' },
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
      });
    this.types = { low: make('low'), medium: make('medium'), high: make('high') };
    this.subscriptions.push(
      store.onDidChange(() => this.schedule()),
      edits.onDidChange(() => this.schedule()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.schedule()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('memlens.inlineDetail')) this.schedule();
      }),
    );
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.redraw(), DEBOUNCE_MS);
  }

  private redraw(): void {
    for (const editor of vscode.window.visibleTextEditors) this.draw(editor);
  }

  private draw(editor: vscode.TextEditor): void {
    const file = editor.document.uri.scheme === 'file' ? editor.document.uri : undefined;
    const found = file && !this.edits.isEdited(file.fsPath) ? this.store.forFile(file) : undefined;
    const settings = currentSettings(editor.document.uri);
    const detail: InlineDetail = settings.inlineDetail;
    const byLevel: Record<ShareLevel, vscode.DecorationOptions[]> = { low: [], medium: [], high: [] };
    if (found) {
      const lastLine = editor.document.lineCount - 1;
      for (const d of lineDecorations(found.profile, editor.document.uri.fsPath, detail, settings.hideBelow)) {
        if (d.line - 1 > lastLine) continue;
        const end = editor.document.lineAt(d.line - 1).range.end;
        byLevel[d.level].push({ range: new vscode.Range(end, end), renderOptions: { after: { contentText: d.text } } });
      }
    }
    for (const level of LEVELS) editor.setDecorations(this.types[level], byLevel[level]);
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const s of this.subscriptions) s.dispose();
    for (const level of LEVELS) this.types[level].dispose();
  }
}
