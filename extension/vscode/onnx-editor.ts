// .onnx files open in a read-only custom editor: the model's summary and memory timeline.
// Reading an ONNX file runs no user code, so this works in Restricted Mode too.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { TimelineView, type TimelineDeps } from './timeline-view';
import { timelineHtml, webviewOptions } from './webview-html';

export const ONNX_EDITOR_VIEW_TYPE = 'memlens.onnxSummary';

export class OnnxSummaryEditor implements vscode.CustomReadonlyEditorProvider {
  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly deps: TimelineDeps,
  ) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    panel.webview.options = webviewOptions(this.extensionUri);
    // Source lines of an exported model open beside the summary.
    const view = new TimelineView(panel.webview, document.uri, this.deps, () => vscode.ViewColumn.Beside);
    panel.webview.html = timelineHtml(panel.webview, this.extensionUri, `Memory: ${path.basename(document.uri.fsPath)}`);
    panel.onDidDispose(() => view.dispose());
  }
}
