// The panel's settings are the `memlens.*` configuration: read for a model file (with the
// per-file override of "Profile with Settings…" on top), and written back under the same keys,
// where the Settings UI shows them.
import * as vscode from 'vscode';
import type { PanelSettings, SettingField } from '../../webview/protocol';
import { FIELD_KEYS, PANEL_FIELDS } from '../presentation/setting-controls';
import type { ProfileStore } from './profile-store';
import { currentSettings } from './settings';

export function configuredPanelSettings(uri: vscode.Uri, store: ProfileStore): PanelSettings {
  const a = { ...currentSettings(uri).analysis, ...store.override(uri) };
  return { mode: a.mode, batch: a.batch, seq: a.seq, dtype: a.dtype, optimizer: a.optimizer };
}

/** Equal as far as a profile is concerned: the optimizer counts only in training. */
export function samePanelSettings(a: PanelSettings, b: PanelSettings): boolean {
  return a.mode === b.mode && a.batch === b.batch && a.seq === b.seq && a.dtype === b.dtype && (a.mode !== 'train' || a.optimizer === b.optimizer);
}

/** Whether a configuration change touches a setting the panel shows, for this file. */
export function affectsPanelSettings(e: vscode.ConfigurationChangeEvent, uri: vscode.Uri): boolean {
  return PANEL_FIELDS.some((f) => e.affectsConfiguration(`memlens.${FIELD_KEYS[f]}`, uri));
}

/**
 * Writes the fields whose effective value differs, to the workspace folder of `uri` (the
 * workspace, or the user settings when no folder is open), and drops the per-file override so
 * the written values take effect. With `shown` (the settings the panel's figures were computed
 * with), only the fields the user changed from it are written: an entry's own mode or a script's
 * batch, shown in the controls, never becomes a setting by itself.
 */
export async function writePanelSettings(uri: vscode.Uri, wanted: PanelSettings, store: ProfileStore, shown?: PanelSettings): Promise<void> {
  const config = vscode.workspace.getConfiguration('memlens', uri);
  const target = vscode.workspace.getWorkspaceFolder(uri)
    ? vscode.ConfigurationTarget.WorkspaceFolder
    : vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  const changed: SettingField[] = PANEL_FIELDS.filter((f) => (!shown || shown[f] !== wanted[f]) && config.get(FIELD_KEYS[f]) !== wanted[f]);
  for (const f of changed) await config.update(FIELD_KEYS[f], wanted[f], target);
  store.clearOverride(uri, PANEL_FIELDS);
}
