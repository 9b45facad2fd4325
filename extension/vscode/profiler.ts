// Runs profiles and measured runs for model files: Workspace Trust first (user code runs only in
// trusted workspaces), then progress with cancellation, one clear message on failure.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { modelKind } from '../analysis/model-kind';
import { runsUserCode } from '../presentation/model-document';
import { withOverride } from '../presentation/settings';
import { engineWorker } from './engine-loader';
import { errorAt, errorLine, isCancellation, isUserError } from './errors';
import type { ModelProfile, ModelStatus, ProfileStore } from './profile-store';
import type { FirstFigures } from '../engine/analyze';
import { currentSettings, givenSettings } from './settings';

export interface SaveEvent {
  at: number;
  wall: number;
  returned: boolean;
}

export type ProfileReason = 'command' | 'open' | 'save' | 'panel' | 'run';

export interface ProfileOptions {
  reason: ProfileReason;
  entry?: string;
  /**
   * The save event this profile answers: performance.now() and Date.now() when it came, to log how
   * soon it showed; `returned` turns true when the event's handler returns.
   */
  event?: SaveEvent;
}

export const CANCEL_COMMAND = 'memlens.cancelProfile';

export const RESTRICTED_MESSAGE =
  'profiling TypeScript and Python models runs their code, which Restricted Mode does not allow; trust this workspace to profile it (ONNX files work in Restricted Mode)';

export class Profiler implements vscode.Disposable {
  private readonly running = new Map<string, AbortController>();
  /** Last message shown per file, so automatic re-profiles do not repeat it. */
  private readonly lastShown = new Map<string, string>();
  /** The entry last asked for per file: re-profiles on save and from the panel keep it. */
  private readonly lastEntry = new Map<string, string>();
  /** The status bar's cancel while a file is analysed (an open's progress has no cancel button). */
  private readonly cancelCommand = vscode.commands.registerCommand(CANCEL_COMMAND, (uri?: vscode.Uri) => {
    for (const [key, c] of this.running) if (!uri || key === uri.toString()) c.abort();
  });

  constructor(
    private readonly store: ProfileStore,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Profiles `uri` (or runs it when reason is 'run'); resolves to the new profile, or undefined when it failed or was refused. */
  async profile(uri: vscode.Uri, options: ProfileOptions): Promise<ModelProfile | undefined> {
    const kind = modelKind(uri.fsPath);
    const name = path.basename(uri.fsPath);
    if (!kind) {
      void vscode.window.showErrorMessage(`MemLens: ${name} is not a model file MemLens reads (.onnx, .ts or .py)`);
      return undefined;
    }
    if (runsUserCode(kind) && !vscode.workspace.isTrusted) {
      this.store.setStatus(uri, { state: 'restricted' });
      if (options.reason !== 'open' && options.reason !== 'save') {
        const manage = 'Manage Workspace Trust';
        void vscode.window.showWarningMessage(`MemLens: ${RESTRICTED_MESSAGE}.`, manage).then((pick) => {
          if (pick === manage) void vscode.commands.executeCommand('workbench.trust.manage');
        });
      }
      return undefined;
    }

    const key = uri.toString();
    if (options.entry) this.lastEntry.set(key, options.entry);
    const entry = options.entry ?? this.lastEntry.get(key);
    this.running.get(key)?.abort();
    const controller = new AbortController();
    this.running.set(key, controller);
    const measuring = options.reason === 'run';
    const label = measuring ? `running ${name} ${kind === 'python' ? 'in PyTorch' : 'on ONNX Runtime'}` : `profiling ${name}`;
    // First the dimmed figures, then the settings (reading them all takes a while on a busy host).
    this.setBusy(uri, { state: 'busy', label, measuring }, options.event);
    const settings = currentSettings(uri);
    for (const problem of settings.problems) this.showOnce(key, problem, 'warning');
    const override = this.store.override(uri);
    const analysis = withOverride(settings.analysis, override);
    const interactive = options.reason === 'command' || options.reason === 'panel' || measuring;
    const started = Date.now();

    try {
      const outcome = await vscode.window.withProgress(
        { location: interactive ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window, title: `MemLens: ${label}`, cancellable: interactive },
        async (_progress, token) => {
          const sub = token.onCancellationRequested(() => controller.abort());
          try {
            const request = {
              file: uri.fsPath, entry, settings: analysis, given: givenSettings(uri, override), trusted: vscode.workspace.isTrusted,
              timeoutMs: settings.timeoutMs, signal: controller.signal, pythonPath: settings.pythonPath || undefined, keepWorkers: true,
              onFirst: this.firstShower(uri, controller, { label, measuring }, started),
            };
            return measuring
              ? await engineWorker().measure({ ...request, ep: settings.executionProvider })
              : await engineWorker().profile(request);
          } finally {
            sub.dispose();
          }
        },
      );
      if (controller.signal.aborted) return undefined;
      const result: ModelProfile = { uri, profile: outcome.profile, kind: outcome.kind, onnxPath: outcome.onnxPath, card: outcome.card };
      this.log.info(`${label}: peak ${outcome.profile.peak.bytes} B in ${Date.now() - started} ms (${outcome.profile.lines.length} lines, ${outcome.profile.timeline.length} steps)`);
      this.lastShown.delete(key);
      this.store.set(result);
      return result;
    } catch (e) {
      if (isCancellation(e, controller.signal)) {
        this.log.info(`${label}: cancelled`);
        this.store.setStatus(uri, undefined);
        return undefined;
      }
      const message = errorLine(e);
      if (!isUserError(e)) this.log.error(`${label}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      else this.log.warn(`${label}: ${message}`);
      this.store.setStatus(uri, { state: 'error', message, at: errorAt(e) });
      if (interactive) this.lastShown.delete(key);
      this.showOnce(key, message, 'error');
      return undefined;
    } finally {
      if (this.running.get(key) === controller) this.running.delete(key);
    }
  }

  /** Shows an analysis's first figures (partial, in the status bar) while it is still the file's current one. */
  private firstShower(uri: vscode.Uri, controller: AbortController, busy: { label: string; measuring: boolean }, started: number): (first: FirstFigures) => void {
    return (first) => {
      if (this.running.get(uri.toString()) !== controller || controller.signal.aborted) return;
      this.log.info(`${busy.label}: first figures (peak ${first.peak.bytes} B, ${first.lines.length} lines) in ${Date.now() - started} ms`);
      this.store.setStatus(uri, { state: 'busy', ...busy, first });
    };
  }

  private setBusy(uri: vscode.Uri, status: ModelStatus, event: ProfileOptions['event']): void {
    const before = performance.now();
    this.store.setStatus(uri, status);
    if (event) this.logShown(uri, event, before);
  }

  /**
   * How soon a save showed that the file is profiled again: the status bar item and the inline
   * figures are redrawn synchronously when the status turns busy (the dimmed last figures), inside
   * the save event; and how long after the file was written that event came.
   */
  private logShown(uri: vscode.Uri, event: SaveEvent, beforeStatus: number): void {
    const now = performance.now();
    const what = this.store.forFile(uri) ? 're-profiling (the last figures dimmed)' : 'profiling';
    let written = '';
    try {
      written = `; the event came ${Math.max(0, event.wall - fs.statSync(uri.fsPath).mtimeMs).toFixed(0)} ms after the file was written`;
    } catch {
      // The file went away: the other figures stand.
    }
    const parts = `${(beforeStatus - event.at).toFixed(1)} ms deciding, ${(now - beforeStatus).toFixed(1)} ms drawing`;
    // Within the event's handler, or later (something awaited before the status turned busy).
    const when = event.returned ? 'after its handler returned' : 'within its handler';
    this.log.info(`save ${path.basename(uri.fsPath)}: ${what} shown in ${(now - event.at).toFixed(1)} ms after the save event, ${when} (${parts})${written}`);
  }

  private showOnce(key: string, message: string, level: 'error' | 'warning'): void {
    if (this.lastShown.get(key) === message) return;
    this.lastShown.set(key, message);
    if (level === 'error') void vscode.window.showErrorMessage(`MemLens: ${message}`);
    else void vscode.window.showWarningMessage(`MemLens: ${message}`);
  }

  dispose(): void {
    this.cancelCommand.dispose();
    for (const c of this.running.values()) c.abort();
    this.running.clear();
  }
}
