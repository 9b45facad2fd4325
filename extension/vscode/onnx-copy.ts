// "MemLens: Write Quantized Copy…" for .onnx models: the weight and KV-cache formats the engine
// suggests for inference, with their re-analysed peaks, written to a NEW file (the input is
// never overwritten) that then opens in the memory summary.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { actionTitle, savingOf } from '../presentation/suggestion-actions';
import { engineWorker } from './engine-loader';
import { errorLine } from './errors';
import { writeOnnxCopy } from './fit-budget';
import type { ProfileStore } from './profile-store';
import type { Profiler } from './profiler';
import { refuse } from './rewrite-edits';
import type { SuggestionSet } from '../analysis/suggest-file';
import type { SuggestionSets } from './suggestion-sets';

export const WRITE_QUANTIZED_COMMAND = 'memlens.writeQuantizedCopy';

export function registerWriteQuantizedCopy(deps: { store: ProfileStore; profiler: Profiler; sets: SuggestionSets }): vscode.Disposable {
  return vscode.commands.registerCommand(WRITE_QUANTIZED_COMMAND, async (arg?: unknown) => {
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const uri = arg instanceof vscode.Uri ? arg : tab instanceof vscode.TabInputCustom ? tab.uri : vscode.window.activeTextEditor?.document.uri;
    if (!uri || path.extname(uri.fsPath).toLowerCase() !== '.onnx') return refuse('Write Quantized Copy works on .onnx models: open or select one first');
    const found = deps.store.get(uri) ?? (await deps.profiler.profile(uri, { reason: 'command' }));
    if (!found) return;
    // Quantized copies are for inference: the formats are weighed under inference settings.
    const req = { ...deps.sets.request(found), settings: { ...found.profile.settings, mode: 'infer' as const } };
    let set: SuggestionSet;
    try {
      set = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `MemLens: weighing quantized formats for ${path.basename(uri.fsPath)}` },
        () => engineWorker().suggest(req),
      );
    } catch (e) {
      return refuse(errorLine(e));
    }
    const items = set.items.filter((i) => (i.suggestion.kind === 'quantize-weights' || i.suggestion.kind === 'quantize-kv') && savingOf(i.suggestion) > 0);
    if (items.length === 0) return refuse(`no quantized format lowers the inference peak of ${path.basename(uri.fsPath)}`);
    const s0 = req.settings;
    const pick = await vscode.window.showQuickPick(
      items.map((i) => ({ label: actionTitle(i.suggestion, set.peakBytes, i.costLabel), detail: i.suggestion.cost.accuracyNote, item: i })),
      { title: `MemLens: quantized copy of ${path.basename(uri.fsPath)} (inference, batch ${s0.batch}, seq ${s0.seq})`, placeHolder: 'Pick a format; the copy is written to a new file', ignoreFocusOut: true },
    );
    if (!pick) return;
    const s = pick.item.suggestion;
    const suffix = s.detail.kind === 'quantize' ? s.detail.format : s.detail.kind === 'kv' ? `kv-${s.detail.format}` : 'rewritten';
    const output = await vscode.window.showSaveDialog({
      title: 'MemLens: write the quantized copy (a new file)',
      defaultUri: vscode.Uri.file(path.join(path.dirname(uri.fsPath), `${path.basename(uri.fsPath, '.onnx')}.${suffix}.onnx`)),
      filters: { 'ONNX model': ['onnx'] },
    });
    if (!output) return;
    await writeOnnxCopy(req, set.peakBytes, output, s.rewrites, { store: deps.store, action: s.action, previous: found.profile });
  });
}
