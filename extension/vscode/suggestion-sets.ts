// Suggestion sets cached per profile: computed on first ask (the model is loaded again with its
// source files' hashes pinned), shared by every request for the same profile, and dropped when
// the store holds a newer profile for the file.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Profile } from '../engine/profile';
import { engine } from './engine-loader';
import type { ProfileRequest } from './engine-api';
import type { ModelProfile, ProfileStore } from './profile-store';
import type { SuggestionSet } from './suggest-api';
import { currentSettings } from './settings';

export class SuggestionSets implements vscode.Disposable {
  private readonly sets = new WeakMap<Profile, { promise: Promise<SuggestionSet>; controller: AbortController }>();
  private readonly latest = new Map<string, Profile>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly store: ProfileStore) {
    this.subscription = store.onDidChange((uri) => {
      const now = store.get(uri)?.profile;
      const before = this.latest.get(uri.toString());
      if (before && before !== now) this.sets.get(before)?.controller.abort();
      if (now) this.latest.set(uri.toString(), now);
    });
  }

  /** The request that loads `found`'s model again with the settings it was profiled with. */
  request(found: ModelProfile, signal?: AbortSignal): ProfileRequest & { files: string[] } {
    const s = currentSettings(found.uri);
    const files = [...new Set(found.profile.lines.map((l) => l.file).filter((f): f is string => f !== null && path.isAbsolute(f)))];
    return {
      file: found.uri.fsPath,
      entry: found.profile.entry ?? undefined,
      settings: found.profile.settings,
      trusted: vscode.workspace.isTrusted,
      timeoutMs: s.timeoutMs,
      pythonPath: s.pythonPath || undefined,
      signal,
      files,
    };
  }

  /** The suggestions for a profile, computed once. */
  get(found: ModelProfile): Promise<SuggestionSet> {
    const cached = this.sets.get(found.profile);
    if (cached) return cached.promise;
    const controller = new AbortController();
    const promise = engine().suggestForFile(this.request(found, controller.signal));
    // A failed computation is not kept: the next ask tries again.
    promise.catch(() => this.sets.delete(found.profile));
    this.sets.set(found.profile, { promise, controller });
    return promise;
  }

  dispose(): void {
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
