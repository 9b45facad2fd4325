// Profiles of model files in this window, their status (busy, failed, restricted) and the
// per-file settings overrides. Features listen to onDidChange and redraw from here.
import * as vscode from 'vscode';
import type { ModelKind } from '../analysis/model-kind';
import type { Profile } from '../engine/profile';
import { linesOfFile } from '../presentation/line-figures';
import type { SettingsOverride } from '../presentation/settings';

export interface ModelProfile {
  uri: vscode.Uri;
  profile: Profile;
  kind: ModelKind;
  onnxPath: string | null;
}

export type ModelStatus =
  | { state: 'busy'; label: string }
  | { state: 'error'; message: string }
  | { state: 'restricted' };

export class ProfileStore implements vscode.Disposable {
  private readonly profiles = new Map<string, ModelProfile>();
  private readonly statuses = new Map<string, ModelStatus>();
  private readonly overrides = new Map<string, SettingsOverride>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  get(uri: vscode.Uri): ModelProfile | undefined {
    return this.profiles.get(uri.toString());
  }

  set(result: ModelProfile): void {
    // Newest last, so forFile prefers the latest profile that describes a file.
    this.profiles.delete(result.uri.toString());
    this.profiles.set(result.uri.toString(), result);
    this.statuses.delete(result.uri.toString());
    this.changed.fire(result.uri);
  }

  status(uri: vscode.Uri): ModelStatus | undefined {
    return this.statuses.get(uri.toString());
  }

  setStatus(uri: vscode.Uri, status: ModelStatus | undefined): void {
    if (status) this.statuses.set(uri.toString(), status);
    else this.statuses.delete(uri.toString());
    this.changed.fire(uri);
  }

  override(uri: vscode.Uri): SettingsOverride | undefined {
    return this.overrides.get(uri.toString());
  }

  setOverride(uri: vscode.Uri, override: SettingsOverride): void {
    this.overrides.set(uri.toString(), { ...this.overrides.get(uri.toString()), ...override });
  }

  all(): ModelProfile[] {
    return [...this.profiles.values()];
  }

  /** The profile whose lines describe `file`: the file's own, else the latest one with lines in it. */
  forFile(file: vscode.Uri): ModelProfile | undefined {
    const own = this.get(file);
    if (own) return own;
    const all = this.all();
    for (let i = all.length - 1; i >= 0; i--) if (linesOfFile(all[i].profile, file.fsPath).length > 0) return all[i];
    return undefined;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
