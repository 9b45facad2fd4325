// The memory timeline panel beside the editor: one panel, retargeted to the model asked for,
// restored after a reload by a WebviewPanelSerializer from the state the webview kept.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PersistedState } from '../../webview/protocol';
import { TimelineView, type TimelineDeps } from './timeline-view';
import { timelineHtml, webviewOptions } from './webview-html';

export const TIMELINE_VIEW_TYPE = 'memlens.timeline';

export class TimelinePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private view: TimelineView | undefined;
  private readonly registration: vscode.Disposable;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly deps: TimelineDeps,
  ) {
    this.registration = vscode.window.registerWebviewPanelSerializer(TIMELINE_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state: unknown) => {
        const persisted = state as PersistedState | undefined;
        const uri = persisted?.panel?.documentUri ? vscode.Uri.parse(persisted.panel.documentUri) : undefined;
        if (!uri) {
          panel.dispose();
          return;
        }
        this.adopt(panel, uri);
      },
    });
  }

  /** Shows the timeline of `uri`, opening the panel beside the editor if it is not open. */
  show(uri: vscode.Uri): void {
    if (this.panel && this.view) {
      this.panel.title = this.title(uri);
      this.view.show(uri);
      this.panel.reveal(undefined, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel(TIMELINE_VIEW_TYPE, this.title(uri), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      ...webviewOptions(this.extensionUri),
      retainContextWhenHidden: false,
    });
    this.adopt(panel, uri);
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
      }
    });
  }

  dispose(): void {
    this.registration.dispose();
    this.panel?.dispose();
  }
}
