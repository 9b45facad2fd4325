// Per-line figures at the end of each model line, coloured by share of the peak. Three
// decoration types (one per colour) are created once; each line sets its text through
// renderOptions; redraws are debounced, except when a file starts being analysed: its last figures
// are dimmed at once (a fourth type). While it is analysed its first figures, once they come, are
// drawn in a file with no unsaved edits. A file edited since its profile shows none until the
// next profile (its lines moved), or until Undo brings back the profiled text.
import * as vscode from 'vscode';
import { lineDecorations, type InlineDetail } from '../presentation/line-figures';
import type { ShareLevel } from '../presentation/share';
import type { Profile } from '../engine/profile';
import type { FigureThreshold } from '../presentation/figure-threshold';
import type { EditTracker } from './edit-tracker';
import type { ProfileStore } from './profile-store';
import { currentSettings } from './settings';

const LEVELS: readonly ShareLevel[] = ['low', 'medium', 'high'];

/** A profile or its first figures: what lineDecorations reads. */
type LineSource = Pick<Profile, 'peak' | 'settings' | 'lines'>;
const DEBOUNCE_MS = 100;

export class InlineFigures implements vscode.Disposable {
  private readonly types: Record<ShareLevel, vscode.TextEditorDecorationType>;
  /** The last figures while their file is analysed again. */
  private readonly dimmed: vscode.TextEditorDecorationType;
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Per document, the settings the figures are drawn with: read once, not in every save event. */
  private readonly settings = new Map<string, { detail: InlineDetail; hideBelow: FigureThreshold }>();

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
    this.dimmed = vscode.window.createTextEditorDecorationType({
      after: { color: new vscode.ThemeColor('disabledForeground'), margin: '0 0 0 2em', fontStyle: 'italic' },
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    });
    this.subscriptions.push(
      // Analysis starting: dim now, in the event that started it (a save), not after the debounce.
      store.onDidChange((uri) => (store.status(uri)?.state === 'busy' ? this.redraw() : this.schedule())),
      edits.onDidChange(() => this.schedule()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.schedule()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('memlens')) this.settings.clear();
        if (e.affectsConfiguration('memlens.inlineDetail') || e.affectsConfiguration('memlens.hideFiguresBelow')) this.schedule();
      }),
    );
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.redraw(), DEBOUNCE_MS);
  }

  private redraw(): void {
    clearTimeout(this.timer);
    for (const editor of vscode.window.visibleTextEditors) this.draw(editor);
  }

  /** What `editor` shows: figures to draw, and whether they are the last ones, dimmed. */
  private shown(editor: vscode.TextEditor): { figures: LineSource; dim: boolean } | undefined {
    const file = editor.document.uri.scheme === 'file' ? editor.document.uri : undefined;
    if (!file) return undefined;
    const found = this.store.forFile(file);
    const status = found ? this.store.status(found.uri) : this.store.status(file);
    // First figures describe the file as it was read for this analysis: on disk, so not while it has unsaved edits.
    if (status?.state === 'busy' && status.first && !editor.document.isDirty) return { figures: status.first, dim: false };
    if (!found || this.edits.isEdited(file.fsPath)) return undefined;
    return { figures: found.profile, dim: status?.state === 'busy' && !status.measuring };
  }

  private settingsOf(uri: vscode.Uri): { detail: InlineDetail; hideBelow: FigureThreshold } {
    let s = this.settings.get(uri.toString());
    if (!s) {
      const read = currentSettings(uri);
      this.settings.set(uri.toString(), (s = { detail: read.inlineDetail, hideBelow: read.hideBelow }));
    }
    return s;
  }

  private draw(editor: vscode.TextEditor): void {
    const settings = this.settingsOf(editor.document.uri);
    const detail = settings.detail;
    const byLevel: Record<ShareLevel, vscode.DecorationOptions[]> = { low: [], medium: [], high: [] };
    const dimmed: vscode.DecorationOptions[] = [];
    const shown = this.shown(editor);
    if (shown) {
      const lastLine = editor.document.lineCount - 1;
      for (const d of lineDecorations(shown.figures, editor.document.uri.fsPath, detail, settings.hideBelow)) {
        if (d.line - 1 > lastLine) continue;
        const end = editor.document.lineAt(d.line - 1).range.end;
        (shown.dim ? dimmed : byLevel[d.level]).push({ range: new vscode.Range(end, end), renderOptions: { after: { contentText: d.text } } });
      }
    }
    for (const level of LEVELS) editor.setDecorations(this.types[level], byLevel[level]);
    editor.setDecorations(this.dimmed, dimmed);
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const s of this.subscriptions) s.dispose();
    for (const level of LEVELS) this.types[level].dispose();
    this.dimmed.dispose();
  }
}
