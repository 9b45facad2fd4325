// Suggestion sets cached per profile: computed once (the model is loaded again with its source
// files' hashes pinned), shortly after the profile lands when its file is on screen or else on
// first ask, shared by every request for the same profile, and dropped when the store holds a
// newer profile for the file.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Profile } from '../engine/profile';
import { engineWorker } from './engine-loader';
import type { ProfileRequest } from '../analysis/profile-file';
import type { ModelProfile, ProfileStore } from './profile-store';
import type { SuggestionSet } from '../analysis/suggest-file';
import { currentSettings } from './settings';

const PREFETCH_DELAY_MS = 300;

export class SuggestionSets implements vscode.Disposable {
  private readonly sets = new WeakMap<Profile, { promise: Promise<SuggestionSet>; controller: AbortController }>();
  private readonly latest = new Map<string, Profile>();
  private readonly subscription: vscode.Disposable;

  private prefetchTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: ProfileStore,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscription = store.onDidChange((uri) => {
      const now = store.get(uri)?.profile;
      const before = this.latest.get(uri.toString());
      if (before && before !== now) this.sets.get(before)?.controller.abort();
      if (now) this.latest.set(uri.toString(), now);
      if (now && before !== now) this.schedulePrefetch(uri);
    });
  }

  /**
   * Loading the model again takes seconds (tracing, export), so a new profile of a source model
   * shown in an editor gets its suggestions shortly after it lands: by the time the user asks
   * for code actions they are ready and the lightbulb answers at once.
   */
  private schedulePrefetch(uri: vscode.Uri): void {
    clearTimeout(this.prefetchTimer);
    this.prefetchTimer = setTimeout(() => {
      const found = this.store.get(uri);
      if (!found || found.kind === 'onnx' || !vscode.workspace.isTrusted) return;
      const shown = vscode.window.visibleTextEditors.some((e) => e.document.uri.scheme === 'file' && this.store.forFile(e.document.uri) === found);
      if (!shown) return;
      const started = Date.now();
      this.get(found).then(
        (set) => this.log.info(`suggestions for ${path.basename(uri.fsPath)}: ${set.items.length} in ${Date.now() - started} ms`),
        (e: unknown) => this.log.warn(`suggestions for ${path.basename(uri.fsPath)}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`),
      );
    }, PREFETCH_DELAY_MS);
  }

  /** The request that loads `found`'s model again with the settings it was profiled with. */
  request(found: ModelProfile, signal?: AbortSignal): ProfileRequest & { files: string[] } {
    const s = currentSettings(found.uri);
    const files = [...new Set(found.profile.lines.map((l) => l.file).filter((f): f is string => f !== null && path.isAbsolute(f)))];
    return {
      file: found.uri.fsPath,
      // A named entry is asked for again by name; a label such as `GPT(GPTConfig())` (a Python
      // `__main__` expression) is the front end's own default choice, so none is named then.
      entry: found.profile.entry && /^[A-Za-z_$][\w$]*$/.test(found.profile.entry) ? found.profile.entry : undefined,
      settings: found.profile.settings,
      trusted: vscode.workspace.isTrusted,
      timeoutMs: s.timeoutMs,
      pythonPath: s.pythonPath || undefined,
      // The profile's kept workers: the model, unchanged since its profile, is traced or exported again from them (often reused as is).
      keepWorkers: true,
      signal,
      files,
    };
  }

  /** The suggestions for a profile, computed once. */
  get(found: ModelProfile): Promise<SuggestionSet> {
    const cached = this.sets.get(found.profile);
    if (cached) return cached.promise;
    const controller = new AbortController();
    const promise = engineWorker().suggest(this.request(found, controller.signal));
    // A failed computation is not kept: the next ask tries again.
    promise.catch(() => this.sets.delete(found.profile));
    this.sets.set(found.profile, { promise, controller });
    return promise;
  }

  dispose(): void {
    clearTimeout(this.prefetchTimer);
    this.subscription.dispose();
  }
}

/** Resolves to undefined as soon as `token` is cancelled (the shared work goes on). */
export function untilCancelled<T>(promise: Promise<T>, token: vscode.CancellationToken): Promise<T | undefined> {
  if (token.isCancellationRequested) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve, reject) => {
    const sub = token.onCancellationRequested(() => {
      sub.dispose();
      resolve(undefined);
    });
    promise.then(
      (v) => {
        sub.dispose();
        resolve(v);
      },
      (e: unknown) => {
        sub.dispose();
        reject(e);
      },
    );
  });
}
