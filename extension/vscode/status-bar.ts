// The status bar item: the peak of the active editor's model against the budget, or what
// MemLens is doing (profiling, failed, Restricted Mode).
import * as vscode from 'vscode';
import type { Budget } from '../presentation/budget';
import { modelKind } from '../analysis/model-kind';
import { looksLikeModel } from '../presentation/model-document';
import { statusText } from '../presentation/summary-text';
import type { ProfileStore } from './profile-store';
import { CANCEL_COMMAND, RESTRICTED_MESSAGE } from './profiler';
import { TIMELINE_VIEW_TYPE } from './timeline-panel';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('memlens.peak', vscode.StatusBarAlignment.Left, 100);
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly store: ProfileStore,
    private readonly budget: () => Budget | null,
    /** The timeline panel: while it has focus, the item shows the model it shows. */
    private readonly panel: { readonly model: vscode.Uri | undefined; readonly onDidChangeModel: vscode.Event<void> },
  ) {
    this.item.name = 'MemLens peak memory';
    this.subscriptions.push(
      panel.onDidChangeModel(() => this.update()),
      store.onDidChange(() => this.update()),
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
      vscode.window.tabGroups.onDidChangeTabs(() => this.update()),
      // Focus moving between groups (an .onnx summary and the timeline panel) changes no tab.
      vscode.window.tabGroups.onDidChangeTabGroups(() => this.update()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.update()),
    );
    this.update();
  }

  update(): void {
    const item = this.item;
    item.backgroundColor = undefined;
    item.color = undefined;
    const editor = vscode.window.activeTextEditor;
    // The .onnx summary is a custom editor: no text editor is active then.
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const panelFocused = tab instanceof vscode.TabInputWebview && tab.viewType.endsWith(TIMELINE_VIEW_TYPE);
    const uri = editor?.document.uri ?? (tab instanceof vscode.TabInputCustom ? tab.uri : panelFocused ? this.panel.model : undefined);
    if (!uri) return item.hide();
    const text = editor?.document.getText() ?? '';
    const kind = modelKind(uri.fsPath);
    const status = this.store.status(uri);
    const found = this.store.forFile(uri);
    if (status?.state === 'busy' && status.first) {
      // This analysis's first figures (the peak, the lines): the timeline and plan are still being computed.
      const s = statusText(status.first, this.budget());
      item.text = `$(loading~spin) ${s.text} · partial`;
      item.tooltip = `${s.tooltip}\n(first figures, while ${status.label}: the timeline and the allocation plan follow; click to cancel)`;
      item.command = { title: 'Cancel', command: CANCEL_COMMAND, arguments: [uri] };
      if (s.overBudget) item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    } else if (status?.state === 'busy' && found && !status.measuring) {
      // A re-profile (a save, a settings change): the last figures stay, dimmed, until the new ones come.
      const s = statusText(found.profile, this.budget());
      item.text = `$(loading~spin) ${s.text} · re-profiling`;
      item.tooltip = `${s.tooltip}\n(the last figures, while ${status.label}; click to cancel)`;
      item.command = { title: 'Cancel', command: CANCEL_COMMAND, arguments: [uri] };
      item.color = new vscode.ThemeColor('disabledForeground');
    } else if (status?.state === 'busy') {
      item.text = `$(loading~spin) MemLens: ${status.label}`;
      item.tooltip = 'Click to cancel';
      item.command = { title: 'Cancel', command: CANCEL_COMMAND, arguments: [uri] };
    } else if (status?.state === 'restricted' || (kind && kind !== 'onnx' && !vscode.workspace.isTrusted && looksLikeModel(kind, text))) {
      item.text = '$(shield) MemLens: Restricted Mode';
      item.tooltip = `MemLens: ${RESTRICTED_MESSAGE}`;
      item.command = 'workbench.trust.manage';
    } else if (status?.state === 'error') {
      item.text = '$(error) MemLens: failed';
      item.tooltip = status.message;
      item.command = 'memlens.profile';
      item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    } else if (found) {
      const s = statusText(found.profile, this.budget());
      item.text = `$(pulse) ${s.text}`;
      item.tooltip = s.tooltip;
      item.command = { title: 'Show Timeline', command: 'memlens.showTimeline', arguments: [found.uri] };
      if (s.overBudget) item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    } else if (kind && looksLikeModel(kind, text)) {
      item.text = '$(pulse) MemLens';
      item.tooltip = 'Profile this model';
      item.command = 'memlens.profile';
    } else {
      return item.hide();
    }
    item.show();
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.item.dispose();
  }
}
