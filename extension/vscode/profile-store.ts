// Profiles of model files in this window, their status (busy, failed, restricted) and the
// per-file settings overrides, and the profile from before the last fix. Features listen to
// onDidChange and redraw from here.
import * as vscode from 'vscode';
import type { ModelKind } from '../analysis/model-kind';
import type { ModelCard } from '../analysis/model-card';
import type { SourceAt } from '../engine/errors';
import type { Profile } from '../engine/profile';
import type { FirstFigures } from '../engine/analyze';
import type { FixRecord } from '../presentation/fix-comparison';
import { linesOfFile } from '../presentation/line-figures';
import type { SettingsOverride } from '../presentation/settings';

export interface ModelProfile {
  uri: vscode.Uri;
  profile: Profile;
  kind: ModelKind;
  onnxPath: string | null;
  card: ModelCard;
}

export type AppliedFix = FixRecord;

export type ModelStatus =
  /**
   * `measuring`: a run on a runtime, not a re-profile of the last figures. `first`: the first
   * figures of this analysis (the peak and the lines), shown as partial until the profile lands.
   */
  | { state: 'busy'; label: string; measuring: boolean; first?: FirstFigures }
  /** `at`: the source line the message names (a shape or trace error), for the Problems panel. */
  | { state: 'error'; message: string; at?: SourceAt }
  | { state: 'restricted' };

export class ProfileStore implements vscode.Disposable {
  private readonly profiles = new Map<string, ModelProfile>();
  private readonly statuses = new Map<string, ModelStatus>();
  private readonly overrides = new Map<string, SettingsOverride>();
  /** Fixes waiting for their model's next profile, then the fix that profile follows. */
  private readonly pendingFixes = new Map<string, AppliedFix>();
  private readonly fixes = new Map<string, AppliedFix>();
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
    // The profile right after a fix is compared with the one before it; any later one is not.
    const pending = this.pendingFixes.get(result.uri.toString());
    this.pendingFixes.delete(result.uri.toString());
    if (pending) this.fixes.set(result.uri.toString(), pending);
    else this.fixes.delete(result.uri.toString());
    this.changed.fire(result.uri);
  }

  status(uri: vscode.Uri): ModelStatus | undefined {
    return this.statuses.get(uri.toString());
  }

  setStatus(uri: vscode.Uri, status: ModelStatus | undefined): void {
    if (status) this.statuses.set(uri.toString(), status);
    else this.statuses.delete(uri.toString());
    if (status?.state === 'error') this.pendingFixes.delete(uri.toString());
    this.changed.fire(uri);
  }

  override(uri: vscode.Uri): SettingsOverride | undefined {
    return this.overrides.get(uri.toString());
  }

  setOverride(uri: vscode.Uri, override: SettingsOverride): void {
    this.overrides.set(uri.toString(), { ...this.overrides.get(uri.toString()), ...override });
  }

  /** Drops the override of these settings (the panel wrote them to the configuration). */
  clearOverride(uri: vscode.Uri, keys: ReadonlyArray<keyof SettingsOverride>): void {
    const now = this.overrides.get(uri.toString());
    if (!now) return;
    const left = { ...now };
    for (const k of keys) delete left[k];
    if (Object.keys(left).length > 0) this.overrides.set(uri.toString(), left);
    else this.overrides.delete(uri.toString());
  }

  /** The next profile of `uri` follows this fix. */
  expectFix(uri: vscode.Uri, fix: AppliedFix): void {
    this.pendingFixes.set(uri.toString(), fix);
  }

  /** The fix the current profile of `uri` follows, if it was the first profile after one. */
  appliedFix(uri: vscode.Uri): AppliedFix | undefined {
    return this.fixes.get(uri.toString());
  }

  clearFix(uri: vscode.Uri): void {
    if (this.fixes.delete(uri.toString())) this.changed.fire(uri);
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
