// One webview showing the memory timeline of one model file: answers the ready handshake with
// the full state, reveals source lines, re-profiles with the panel's settings, and pushes new
// state when the model's profile changes. Used by the timeline panel and the .onnx editor.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { panelState } from '../presentation/timeline-state';
import type { HostMessage, PanelState, SourceLink, WebviewMessage } from '../../webview/protocol';
import { isWebviewMessage } from '../../webview/protocol';
import type { Budget } from '../presentation/budget';
import type { ProfileStore } from './profile-store';
import type { Profiler } from './profiler';

export interface TimelineDeps {
  store: ProfileStore;
  profiler: Profiler;
  budget: () => Budget | null;
}

export class TimelineView implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];
  private ready = false;

  constructor(
    private readonly webview: vscode.Webview,
    private _uri: vscode.Uri,
    private readonly deps: TimelineDeps,
    /** Where revealed source opens: beside a panel, or over the .onnx editor. */
    private readonly revealColumn: () => vscode.ViewColumn,
  ) {
    this.subscriptions.push(
      webview.onDidReceiveMessage((m: unknown) => {
        if (isWebviewMessage(m)) void this.handle(m);
      }),
      deps.store.onDidChange((changed) => {
        if (changed.toString() === this._uri.toString()) this.pushState();
      }),
    );
  }

  get uri(): vscode.Uri {
    return this._uri;
  }

  show(uri: vscode.Uri): void {
    this._uri = uri;
    this.pushState();
  }

  state(): PanelState | null {
    const found = this.deps.store.get(this._uri);
    if (!found) return null;
    return panelState(found.profile, { documentUri: this._uri.toString(), title: path.basename(this._uri.fsPath), budget: this.deps.budget() });
  }

  pushState(): void {
    if (!this.ready) return;
    const status = this.deps.store.status(this._uri);
    if (status?.state === 'busy') return this.post({ type: 'busy', busy: true, label: status.label });
    if (status?.state === 'error') return this.post({ type: 'error', message: status.message });
    if (status?.state === 'restricted') return this.post({ type: 'error', message: 'Restricted Mode: profiling this file runs its code; trust the workspace to profile it.' });
    this.post({ type: 'state', state: this.state() });
  }

  private post(message: HostMessage): void {
    void this.webview.postMessage(message);
  }

  private async handle(m: WebviewMessage): Promise<void> {
    switch (m.type) {
      case 'ready': {
        this.ready = true;
        const state = this.state();
        // After a reload the host may not have profiled yet: the webview's own copy stays until it has.
        if (state || !m.restored) this.post({ type: 'state', state, replyTo: m.requestId });
        if (!state && !this.deps.store.status(this._uri)) void this.deps.profiler.profile(this._uri, { reason: 'panel' });
        else if (!state) this.pushState();
        return;
      }
      case 'reveal': {
        const ok = await this.reveal(m.source);
        this.post({ type: 'revealed', replyTo: m.requestId, ok });
        return;
      }
      case 'reprofile': {
        this.deps.store.setOverride(this._uri, { mode: m.settings.mode, batch: m.settings.batch, seq: m.settings.seq, dtype: m.settings.dtype });
        const result = await this.deps.profiler.profile(this._uri, { reason: 'panel' });
        if (result) this.post({ type: 'state', state: this.state(), replyTo: m.requestId });
        else this.post({ type: 'error', message: this.errorText(), replyTo: m.requestId });
        return;
      }
    }
  }

  private errorText(): string {
    const status = this.deps.store.status(this._uri);
    return status?.state === 'error' ? status.message : 'the profile did not finish';
  }

  private async reveal(source: SourceLink): Promise<boolean> {
    try {
      const uri = vscode.Uri.file(source.file);
      const line = Math.max(0, source.line - 1);
      const editor = await vscode.window.showTextDocument(uri, {
        viewColumn: this.revealColumn(),
        preserveFocus: false,
        selection: new vscode.Range(line, 0, line, 0),
      });
      editor.revealRange(new vscode.Range(line, 0, line, 0), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      return true;
    } catch (e) {
      void vscode.window.showWarningMessage(`MemLens: cannot open ${source.label}: ${(e as Error).message}`);
      return false;
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
