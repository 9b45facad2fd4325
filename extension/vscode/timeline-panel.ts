// The memory timeline panel beside the editor: one panel, retargeted to the model asked for and
// to the model of the active editor, restored after a reload by a WebviewPanelSerializer from
// the state the webview kept.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PersistedState } from '../../webview/protocol';
import { linesOfFile } from '../presentation/line-figures';
import { modelKind } from '../analysis/model-kind';
import { looksLikeModel } from '../presentation/model-document';
import { TimelineView, type TimelineDeps } from './timeline-view';
import { timelineHtml, webviewOptions } from './webview-html';

export const TIMELINE_VIEW_TYPE = 'memlens.timeline';

export class TimelinePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private view: TimelineView | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the panel opens, closes or shows another model. */
  readonly onDidChangeModel = this.changed.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly deps: TimelineDeps,
  ) {
    this.subscriptions.push(
      vscode.window.registerWebviewPanelSerializer(TIMELINE_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const persisted = state as PersistedState | undefined;
          const uri = typeof persisted?.panel?.documentUri === 'string' ? vscode.Uri.parse(persisted.panel.documentUri) : undefined;
          if (!uri || uri.scheme !== 'file' || !modelKind(uri.fsPath)) {
            panel.dispose();
            return;
          }
          this.adopt(panel, uri);
        },
      }),
      vscode.window.onDidChangeActiveTextEditor((editor) => this.follow(editor)),
      this.changed,
    );
  }

  /** The model the panel shows, while it is open. */
  get model(): vscode.Uri | undefined {
    return this.view?.uri;
  }

  /** Shows the timeline of `uri`, opening the panel beside the editor if it is not open. */
  show(uri: vscode.Uri): void {
    if (this.panel && this.view) {
      this.retarget(uri);
      this.panel.reveal(undefined, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel(TIMELINE_VIEW_TYPE, this.title(uri), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      ...webviewOptions(this.extensionUri),
      retainContextWhenHidden: false,
    });
    this.adopt(panel, uri);
  }

  /**
   * An open panel follows the active editor: a file with lines in the shown profile keeps it
   * (a source line opened from the chart, a module the model imports); a model file shows its own
   * timeline; another file that a profiled model runs lines of shows that model's.
   */
  private follow(editor: vscode.TextEditor | undefined): void {
    if (!this.panel || !this.view || !editor || editor.document.uri.scheme !== 'file') return;
    const uri = editor.document.uri;
    const shown = this.deps.store.get(this.view.uri)?.profile;
    if (shown && linesOfFile(shown, uri.fsPath).length > 0) return;
    const kind = modelKind(uri.fsPath);
    const isModel = kind !== null && (this.deps.store.get(uri) !== undefined || looksLikeModel(kind, editor.document.getText()));
    const target = isModel ? uri : this.deps.store.forFile(uri)?.uri;
    if (!target || target.toString() === this.view?.uri.toString()) return;
    this.retarget(target);
    if (!this.deps.store.get(target) && !this.deps.store.status(target)) void this.deps.profiler.profile(target, { reason: 'open' });
  }

  private retarget(uri: vscode.Uri): void {
    if (!this.panel || !this.view) return;
    this.panel.title = this.title(uri);
    this.view.show(uri);
    this.changed.fire();
  }

  private title(uri: vscode.Uri): string {
    return `Memory: ${path.basename(uri.fsPath)}`;
  }

  private adopt(panel: vscode.WebviewPanel, uri: vscode.Uri): void {
    this.panel?.dispose();
    this.panel = panel;
    panel.webview.options = webviewOptions(this.extensionUri);
    const view = new TimelineView(panel.webview, uri, this.deps, () => vscode.ViewColumn.One);
    this.view = view;
    panel.title = this.title(uri);
    panel.webview.html = timelineHtml(panel.webview, this.extensionUri, panel.title);
    panel.onDidDispose(() => {
      view.dispose();
      if (this.panel === panel) {
        this.panel = undefined;
        this.view = undefined;
        this.changed.fire();
      }
    });
    this.changed.fire();
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.panel?.dispose();
  }
}
