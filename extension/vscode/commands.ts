// The MemLens commands (category "MemLens" in the palette).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { MemlensError } from '../engine/errors';
import { PRECISIONS } from '../engine/settings';
import { parseBytes } from '../engine/units';
import { modelKind } from '../analysis/model-kind';
import { engine } from './engine-loader';
import type { ProfileStore } from './profile-store';
import type { Profiler } from './profiler';
import { currentSettings } from './settings';
import type { TimelinePanel } from './timeline-panel';
import { ONNX_EDITOR_VIEW_TYPE } from './onnx-editor';

export interface CommandDeps {
  store: ProfileStore;
  profiler: Profiler;
  panel: TimelinePanel;
}

/** The model a command acts on: its argument (CodeLens, explorer), else the active editor's file. */
function targetUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && active.scheme === 'file') return active;
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (tab instanceof vscode.TabInputCustom) return tab.uri;
  return undefined;
}

function requireModel(arg: unknown): vscode.Uri | undefined {
  const uri = targetUri(arg);
  if (!uri || !modelKind(uri.fsPath)) {
    void vscode.window.showWarningMessage('MemLens: open a model file first (.ts using memlens/nn, a PyTorch .py, or an .onnx file)');
    return undefined;
  }
  return uri;
}

async function pickNumber(title: string, value: number): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    title,
    value: String(value),
    validateInput: (t) => (/^\s*[1-9]\d*\s*$/.test(t) ? undefined : 'a whole number of at least 1'),
  });
  return text === undefined ? undefined : Number(text);
}

/** Profile with mode, batch, sequence length and precision picked in four steps. */
async function profileWithSettings(deps: CommandDeps, arg: unknown): Promise<void> {
  const { store, profiler } = deps;
  const uri = requireModel(arg);
  if (!uri) return;
  const base = { ...currentSettings(uri).analysis, ...store.override(uri) };
  const mode = await vscode.window.showQuickPick(
    [
      { label: 'inference', value: 'infer' as const, picked: base.mode === 'infer', description: 'weights, activations, KV cache' },
      { label: 'training', value: 'train' as const, picked: base.mode === 'train', description: '+ saved activations, gradients, optimizer state' },
    ],
    { title: 'MemLens: mode (1/4)', placeHolder: `now: ${base.mode === 'train' ? 'training' : 'inference'}` },
  );
  if (!mode) return;
  const batch = await pickNumber('MemLens: batch size (2/4)', base.batch);
  if (batch === undefined) return;
  const seq = await pickNumber('MemLens: sequence length (3/4)', base.seq);
  if (seq === undefined) return;
  const dtype = await vscode.window.showQuickPick(
    PRECISIONS.map((d) => ({ label: d, value: d, description: d === base.dtype ? 'current' : undefined })),
    { title: 'MemLens: precision (4/4)', placeHolder: `now: ${base.dtype}` },
  );
  if (!dtype) return;
  store.setOverride(uri, { mode: mode.value, batch, seq, dtype: dtype.value });
  await profiler.profile(uri, { reason: 'command' });
}

/** The budget setting, checked as it is typed. */
async function setBudget(): Promise<void> {
  const config = vscode.workspace.getConfiguration('memlens');
  const text = await vscode.window.showInputBox({
    title: 'MemLens: memory budget',
    prompt: 'A size such as 24GiB or 80GB, "auto" for the GPU\'s memory (nvidia-smi), or empty for no budget',
    value: config.get<string>('budget') ?? '',
    validateInput: (t) => {
      const v = t.trim().toLowerCase();
      if (v === '' || v === 'auto' || v === 'none') return undefined;
      try {
        parseBytes(t, 'budget');
        return undefined;
      } catch (e) {
        return e instanceof MemlensError ? e.message : String(e);
      }
    },
  });
  if (text === undefined) return;
  const target = vscode.workspace.workspaceFolders ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await config.update('budget', text.trim(), target);
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { store, profiler, panel } = deps;
  const register = (id: string, run: (...args: unknown[]) => unknown) => vscode.commands.registerCommand(id, run);
  return [
    register('memlens.profile', async (arg?: unknown, entry?: unknown) => {
      const uri = requireModel(arg);
      if (uri) await profiler.profile(uri, { reason: 'command', entry: typeof entry === 'string' ? entry : undefined });
    }),

    register('memlens.profileWithSettings', (arg?: unknown) => profileWithSettings(deps, arg)),

    register('memlens.runOnGpu', async (arg?: unknown, entry?: unknown) => {
      const uri = requireModel(arg);
      if (!uri) return;
      const result = await profiler.profile(uri, { reason: 'run', entry: typeof entry === 'string' ? entry : undefined });
      if (result?.profile.measured) panel.show(uri);
    }),

    register('memlens.showTimeline', async (arg?: unknown) => {
      const uri = requireModel(arg);
      if (!uri) return;
      if (!store.get(uri) && !store.status(uri)) void profiler.profile(uri, { reason: 'command' });
      panel.show(uri);
    }),

    register('memlens.openOnnxSummary', async (arg?: unknown) => {
      const uri = requireModel(arg);
      if (uri) await vscode.commands.executeCommand('vscode.openWith', uri, ONNX_EDITOR_VIEW_TYPE);
    }),

    register('memlens.setBudget', setBudget),

    register('memlens.toggleInlineFigures', async () => {
      const config = vscode.workspace.getConfiguration('memlens');
      const now = config.get<string>('inlineDetail') ?? 'compact';
      await config.update('inlineDetail', now === 'off' ? 'compact' : 'off', vscode.ConfigurationTarget.Global);
    }),

    register('memlens.exportTrace', async (arg?: unknown) => {
      const uri = requireModel(arg);
      const found = uri ? store.get(uri) ?? (await profiler.profile(uri, { reason: 'command' })) : undefined;
      if (!uri || !found) return;
      const base = path.basename(uri.fsPath).replace(/\.[^.]+$/, '');
      const target = await vscode.window.showSaveDialog({
        title: 'MemLens: export the memory timeline as a Chrome trace (Perfetto, chrome://tracing)',
        defaultUri: vscode.Uri.file(path.join(path.dirname(uri.fsPath), `${base}.memlens-trace.json`)),
        filters: { 'Chrome trace': ['json'] },
      });
      if (!target) return;
      await vscode.workspace.fs.writeFile(target, Buffer.from(engine().chromeTraceJson(found.profile), 'utf8'));
      void vscode.window.showInformationMessage(`MemLens: wrote ${path.basename(target.fsPath)} (open it in ui.perfetto.dev or chrome://tracing)`);
    }),
  ];
}
