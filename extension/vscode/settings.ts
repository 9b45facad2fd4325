// The `memlens.*` configuration read into plain settings, and the budget it names (with
// `auto` asking nvidia-smi once per session).
import * as vscode from 'vscode';
import { resolveBudget, type Budget, type DetectedGpu } from '../presentation/budget';
import { detectGpu } from '../presentation/detect-gpu';
import { readProfileOnSave, readSettings, type ExtensionSettings, type SettingsOverride } from '../presentation/settings';
import type { GivenSettings } from '../analysis/load-model';

const KEYS = [
  'mode', 'batch', 'sequenceLength', 'pastSequenceLength', 'dtype', 'optimizer', 'device', 'step', 'zeroGrad', 'executionProvider', 'budget', 'inlineDetail',
  'profileOnSave', 'pythonPath', 'timeoutSeconds', 'dims', 'branches', 'hideFiguresBelow',
] as const;

export function currentSettings(scope?: vscode.Uri): ExtensionSettings {
  const config = vscode.workspace.getConfiguration('memlens', scope);
  const raw: Record<string, unknown> = {};
  const configured = new Set<string>();
  for (const key of KEYS) {
    raw[key] = config.get(key);
    const set = config.inspect(key);
    if (set && [set.globalValue, set.workspaceValue, set.workspaceFolderValue].some((v) => v !== undefined)) configured.add(key);
  }
  if (!raw.pythonPath) raw.pythonPath = pythonExtensionInterpreter(scope);
  return readSettings(raw, configured);
}

/** memlens.profileOnSave alone: the save event reads it before dimming, so not every setting. */
export function profileOnSave(scope: vscode.Uri): boolean {
  return readProfileOnSave(vscode.workspace.getConfiguration('memlens', scope).get('profileOnSave'));
}

/** Which analysis settings the user wrote (any scope) or overrode for the file: a Python script
 * decides the others itself (its own batch, its optimizer). */
export function givenSettings(scope: vscode.Uri | undefined, override: SettingsOverride | undefined): GivenSettings {
  const config = vscode.workspace.getConfiguration('memlens', scope);
  const written = (key: string): boolean => {
    const i = config.inspect(key);
    return i !== undefined && [i.globalValue, i.workspaceValue, i.workspaceFolderValue].some((v) => v !== undefined);
  };
  return {
    mode: written('mode') || override?.mode !== undefined,
    batch: written('batch') || override?.batch !== undefined,
    seq: written('sequenceLength') || override?.seq !== undefined,
    optimizer: written('optimizer') || override?.optimizer !== undefined,
  };
}

/** The interpreter the Python extension selected, when it is installed and has one. */
function pythonExtensionInterpreter(scope?: vscode.Uri): string | undefined {
  const v = vscode.workspace.getConfiguration('python', scope).get<string>('defaultInterpreterPath');
  return v && v !== 'python' ? v : undefined;
}

let gpu: Promise<DetectedGpu | null> | undefined;

/**
 * The budget in force, from memlens.budget; a bad setting is reported by the caller once. It reads
 * that one key, not every setting: it runs inside activate(), where each key's get + inspect adds
 * to the extension's start.
 */
export async function currentBudget(): Promise<Budget | null> {
  const raw = vscode.workspace.getConfiguration('memlens').get<unknown>('budget');
  const text = typeof raw === 'string' ? raw : '';
  const detected = text.trim().toLowerCase() === 'auto' ? await (gpu ??= detectGpu()) : null;
  return resolveBudget(text, detected);
}
