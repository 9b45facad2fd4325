// CodeLens on each model entry: the peak with the settings it was computed for, and Profile,
// Run on GPU and Timeline. In Restricted Mode the lens says why nothing runs.
import * as vscode from 'vscode';
import { modelKind } from '../analysis/model-kind';
import { looksLikeModel, runsUserCode } from '../presentation/model-document';
import type { ModelEntry } from '../presentation/model-entries';
import { lensTitle } from '../presentation/summary-text';
import { discoveryWorker } from './engine-loader';
import type { ProfileStore } from './profile-store';

export class ModelCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly store: ProfileStore) {
    this.subscription = vscode.Disposable.from(
      store.onDidChange(() => this.changed.fire()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire()),
    );
  }

  async provideCodeLenses(document: vscode.TextDocument, token: vscode.CancellationToken): Promise<vscode.CodeLens[]> {
    const kind = modelKind(document.uri.fsPath);
    if (!kind || kind === 'onnx' || !looksLikeModel(kind, document.getText())) return [];
    let entries: ModelEntry[] = [];
    try {
      entries = await discoveryWorker().entries(kind, document.uri.fsPath, document.getText());
    } catch {
      // a file that does not parse yet still gets the lens on its first line
    }
    if (token.isCancellationRequested) return [];
    const targets = entries.length > 0 ? entries : [{ name: '', line: 1, isDefault: true }];
    const uri = document.uri;
    const lenses: vscode.CodeLens[] = [];
    for (const entry of targets) {
      const range = new vscode.Range(entry.line - 1, 0, entry.line - 1, 0);
      // The default entry is profiled without naming it, so the front end's own choice applies.
      const entryArg = entry.isDefault ? undefined : entry.name;
      if (runsUserCode(kind) && !vscode.workspace.isTrusted) {
        lenses.push(new vscode.CodeLens(range, {
          title: '$(shield) MemLens: Restricted Mode — profiling runs this file\'s code; trust the workspace to profile',
          command: 'workbench.trust.manage',
        }));
        continue;
      }
      const found = this.store.get(uri);
      const status = this.store.status(uri);
      const describes = found && (found.profile.entry === entry.name || (entry.isDefault && !entries.some((e) => e.name === found.profile.entry)));
      if (describes) {
        lenses.push(new vscode.CodeLens(range, { title: lensTitle(found.profile), command: 'memlens.showTimeline', arguments: [uri] }));
      } else if (entry.isDefault && status?.state === 'busy') {
        lenses.push(new vscode.CodeLens(range, { title: `$(loading~spin) MemLens: ${status.label}`, command: '' }));
      } else if (entry.isDefault && status?.state === 'error') {
        lenses.push(new vscode.CodeLens(range, { title: `$(error) MemLens: ${status.message}`, command: 'memlens.profile', arguments: [uri, entryArg] }));
      }
      lenses.push(
        new vscode.CodeLens(range, { title: 'Profile', command: 'memlens.profile', arguments: [uri, entryArg] }),
        new vscode.CodeLens(range, { title: 'Run on GPU', command: 'memlens.runOnGpu', arguments: [uri, entryArg] }),
        new vscode.CodeLens(range, { title: 'Timeline', command: 'memlens.showTimeline', arguments: [uri] }),
      );
    }
    return lenses;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
