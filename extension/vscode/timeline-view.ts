// One webview showing the memory timeline of one model file: checks every request before it is
// used, answers each with its paired response, and pushes new state when the profile, the budget
// or the settings change. Used by the timeline panel and the .onnx editor.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Budget } from '../presentation/budget';
import { checkRevealTarget, parseRequest } from '../presentation/panel-requests';
import { settingControls, type SettingSchema } from '../presentation/setting-controls';
import { panelState } from '../presentation/timeline-state';
import type { Profile } from '../engine/profile';
import type {
  HostMessage, NotificationMessage, PanelSettings, PanelState, RequestMessage, RequestMethod, ResponseOf,
} from '../../webview/protocol';
import { affectsPanelSettings, configuredPanelSettings, samePanelSettings, writePanelSettings } from './panel-settings';
import type { ProfileStore } from './profile-store';
import type { Profiler } from './profiler';

export interface TimelineDeps {
  store: ProfileStore;
  profiler: Profiler;
  budget: () => Budget | null;
  onDidChangeBudget: vscode.Event<void>;
  /** The panel's settings as the manifest declares them. */
  schemas: readonly SettingSchema[];
  log: vscode.LogOutputChannel;
}

/** A number per profile object, so the webview can tell a new profile from a redraw. */
const profileIds = new WeakMap<Profile, number>();
let nextProfileId = 1;
function profileId(p: Profile): number {
  let id = profileIds.get(p);
  if (id === undefined) profileIds.set(p, (id = nextProfileId++));
  return id;
}

const panelOf = (p: Profile): PanelSettings => ({
  mode: p.settings.mode, batch: p.settings.batch, seq: p.settings.seq, dtype: p.settings.dtype, optimizer: p.settings.optimizer,
});

export class TimelineView implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];
  private ready = false;
  /** The settings of the last profile this view asked for (a settings change it made itself is not followed twice). */
  private requested: PanelSettings | undefined;

  constructor(
    private readonly webview: vscode.Webview,
    private _uri: vscode.Uri,
    private readonly deps: TimelineDeps,
    /** Where revealed source opens: beside a panel, or over the .onnx editor. */
    private readonly revealColumn: () => vscode.ViewColumn,
  ) {
    this.subscriptions.push(
      webview.onDidReceiveMessage((m: unknown) => void this.receive(m)),
      deps.store.onDidChange((changed) => {
        if (changed.toString() === this._uri.toString()) this.pushState();
      }),
      deps.onDidChangeBudget(() => this.pushState()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affectsPanelSettings(e, this._uri)) this.followSettings();
      }),
    );
  }

  get uri(): vscode.Uri {
    return this._uri;
  }

  show(uri: vscode.Uri): void {
    if (uri.toString() === this._uri.toString()) return;
    this._uri = uri;
    this.requested = undefined;
    this.pushState();
  }

  state(): PanelState | null {
    const found = this.deps.store.get(this._uri);
    if (!found) return null;
    // The controls show what the figures were computed with (an entry's own `mode: 'train'`, a
    // Python script's batch), not only what is configured.
    const settings = panelOf(found.profile);
    return panelState(found.profile, {
      documentUri: this._uri.toString(),
      title: path.basename(this._uri.fsPath),
      budget: this.deps.budget(),
      kind: found.kind,
      card: found.card,
      controls: settingControls(this.deps.schemas, settings, found.card.uses),
      fix: this.deps.store.appliedFix(this._uri) ?? null,
      profileId: profileId(found.profile),
      // Running an .onnx file runs no user code; a traced or exported model runs only when trusted.
      canMeasure: found.kind === 'onnx' || vscode.workspace.isTrusted,
    });
  }

  pushState(): void {
    if (!this.ready) return;
    const status = this.deps.store.status(this._uri);
    if (status?.state === 'busy') return this.notify({ kind: 'notification', method: 'busy', label: status.label });
    if (status?.state === 'error') return this.notify({ kind: 'notification', method: 'error', message: status.message });
    if (status?.state === 'restricted') {
      return this.notify({ kind: 'notification', method: 'error', message: 'Restricted Mode: profiling this file runs its code; trust the workspace to profile it.' });
    }
    this.notify({ kind: 'notification', method: 'state', state: this.state() });
  }

  private notify(message: NotificationMessage): void {
    this.post(message);
  }

  private post(message: HostMessage): void {
    void this.webview.postMessage(message);
  }

  private respond<M extends RequestMethod>(id: number, method: M, result: ResponseOf<M>): void {
    this.post({ kind: 'response', id, method, result } as HostMessage);
  }

  private async receive(raw: unknown): Promise<void> {
    const parsed = parseRequest(raw, this.deps.schemas);
    if (!parsed.ok) {
      this.deps.log.warn(`timeline webview: refused a message: ${parsed.reason}`);
      if (parsed.id !== null && parsed.method !== null) this.respond(parsed.id, parsed.method, { ok: false, reason: parsed.reason });
      return;
    }
    const { request } = parsed;
    this.respond(request.id, request.method, await this.handle(request));
  }

  private async handle(r: RequestMessage): Promise<ResponseOf<RequestMethod>> {
    switch (r.method) {
      case 'ready': return this.onReady();
      case 'reveal': return this.reveal(r.params.source);
      case 'applySettings': return this.applySettings(r.params.settings);
      case 'measure': return this.measure();
      case 'hideComparison':
        this.deps.store.clearFix(this._uri);
        return { ok: true };
    }
  }

  /** The handshake: the full state, or null while there is none (the webview keeps a restored copy until then). */
  private onReady(): ResponseOf<'ready'> {
    this.ready = true;
    const state = this.state();
    if (!state && !this.deps.store.status(this._uri)) void this.profile('panel');
    else if (!state) this.pushState();
    return { ok: true, state };
  }

  private profile(reason: 'panel' | 'open' | 'run'): Promise<unknown> {
    this.requested = configuredPanelSettings(this._uri, this.deps.store);
    return this.deps.profiler.profile(this._uri, { reason });
  }

  /** A settings change made elsewhere (the Settings UI, settings.json) re-profiles the shown model. */
  private followSettings(): void {
    const now = configuredPanelSettings(this._uri, this.deps.store);
    const shown = this.deps.store.get(this._uri)?.profile;
    if (this.requested && samePanelSettings(now, this.requested)) return;
    if (shown && samePanelSettings(now, panelOf(shown))) return;
    if (!shown && !this.ready) return;
    void this.profile('open');
  }

  private async applySettings(settings: PanelSettings): Promise<ResponseOf<'applySettings'>> {
    this.requested = settings;
    try {
      const shown = this.deps.store.get(this._uri)?.profile;
      await writePanelSettings(this._uri, settings, this.deps.store, shown ? panelOf(shown) : undefined);
    } catch (e) {
      return { ok: false, reason: `the settings could not be written: ${(e as Error).message}` };
    }
    const result = await this.profile('panel');
    return result ? { ok: true } : { ok: false, reason: this.errorText() };
  }

  private async measure(): Promise<ResponseOf<'measure'>> {
    const result = await this.profile('run');
    return result ? { ok: true } : { ok: false, reason: this.errorText() };
  }

  private errorText(): string {
    const status = this.deps.store.status(this._uri);
    if (status?.state === 'error') return status.message;
    if (status?.state === 'restricted') return 'Restricted Mode: trust the workspace to profile this file';
    return 'the profile did not finish';
  }

  private async reveal(source: { file: string; line: number }): Promise<ResponseOf<'reveal'>> {
    const allowed = checkRevealTarget(source, this.deps.store.get(this._uri)?.profile);
    if (!allowed.ok) {
      this.deps.log.warn(`timeline webview: refused to open ${source.file}: ${allowed.reason}`);
      return allowed;
    }
    const { file, line } = allowed.value;
    try {
      const at = new vscode.Range(line - 1, 0, line - 1, 0);
      const editor = await vscode.window.showTextDocument(vscode.Uri.file(file), { viewColumn: this.revealColumn(), preserveFocus: false, selection: at });
      editor.revealRange(at, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      return { ok: true };
    } catch (e) {
      return { ok: false, reason: `cannot open ${path.basename(file)}:${line}: ${(e as Error).message}` };
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
