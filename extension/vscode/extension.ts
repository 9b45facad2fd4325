// Activation: wires the thin adapters to the profile store. Nothing heavy loads here; the engine
// loads on the first profile (engine-loader.ts).
import * as vscode from 'vscode';
import type { Budget } from '../presentation/budget';
import { modelKind } from '../analysis/model-kind';
import { looksLikeModel } from '../presentation/model-document';
import { settingSchemas } from '../presentation/setting-controls';
import { SuggestionCodeActions } from './code-actions';
import { ModelCodeLensProvider } from './code-lens';
import { registerCommands } from './commands';
import { ModelDiagnostics } from './diagnostics';
import { EditTracker } from './edit-tracker';
import { loadedEngine, stopEngineWorker } from './engine-loader';
import { errorLine } from './errors';
import { registerFitBudget, registerPlanPreviews } from './fit-budget';
import { LineHoverProvider } from './hover';
import { InlineFigures } from './inline-figures';
import { registerWriteQuantizedCopy } from './onnx-copy';
import { ONNX_EDITOR_VIEW_TYPE, OnnxSummaryEditor } from './onnx-editor';
import { ProfileStore } from './profile-store';
import { Profiler } from './profiler';
import { registerAfterRewrite } from './rewrite-edits';
import { currentBudget, profileOnSave } from './settings';
import { StatusBar } from './status-bar';
import { SuggestionSets } from './suggestion-sets';
import { TimelinePanel } from './timeline-panel';

/**
 * performance.now() at the first line of dist/extension.js (a banner, scripts/bundle.mjs), so the
 * logged activation time counts the bundle's own evaluation; undefined when run from out/.
 */
declare const __memlensLoadStart: number | undefined;

const MODEL_SELECTOR: vscode.DocumentSelector = [
  { scheme: 'file', language: 'typescript' },
  { scheme: 'file', language: 'python' },
];

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('MemLens', { log: true });
  const store = new ProfileStore();
  const profiler = new Profiler(store, log);

  let budget: Budget | null = null;
  const budgetNow = () => budget;
  const budgetChanged = new vscode.EventEmitter<void>();
  const edits = new EditTracker(store);
  const diagnostics = new ModelDiagnostics(store, budgetNow, edits);
  const deps = { store, profiler, budget: budgetNow, onDidChangeBudget: budgetChanged.event, schemas: settingSchemas(context.extension.packageJSON), log };
  const panel = new TimelinePanel(context.extensionUri, deps);
  const status = new StatusBar(store, budgetNow, panel);
  const refreshBudget = async () => {
    try {
      budget = await currentBudget();
    } catch (e) {
      budget = null;
      void vscode.window.showWarningMessage(`MemLens: ${errorLine(e)}`);
    }
    status.update();
    diagnostics.update();
    budgetChanged.fire();
  };
  void refreshBudget();

  const lenses = new ModelCodeLensProvider(store);
  const sets = new SuggestionSets(store, log);

  /** Profiles model documents as they open or are saved (memlens.profileOnSave). */
  const autoProfile = (document: vscode.TextDocument, reason: 'open' | 'save') => {
    const event = { at: performance.now(), wall: Date.now(), returned: false };
    if (document.uri.scheme !== 'file') return;
    const kind = modelKind(document.uri.fsPath);
    if (!kind || kind === 'onnx' || !looksLikeModel(kind, document.getText())) return;
    if (!profileOnSave(document.uri)) return;
    if (reason === 'open' && (store.get(document.uri) || store.status(document.uri)?.state === 'busy')) return;
    void profiler.profile(document.uri, { reason, ...(reason === 'save' ? { event } : {}) });
    event.returned = true;
  };

  context.subscriptions.push(
    log, store, profiler, budgetChanged, status, edits, diagnostics, panel, lenses,
    new InlineFigures(store, edits),
    vscode.languages.registerHoverProvider(MODEL_SELECTOR, new LineHoverProvider(store, edits)),
    vscode.languages.registerCodeLensProvider(MODEL_SELECTOR, lenses),
    vscode.window.registerCustomEditorProvider(ONNX_EDITOR_VIEW_TYPE, new OnnxSummaryEditor(context.extensionUri, deps), {
      supportsMultipleEditorsPerDocument: false,
      webviewOptions: { retainContextWhenHidden: false },
    }),
    ...registerCommands({ store, profiler, panel }),
    sets,
    vscode.languages.registerCodeActionsProvider(MODEL_SELECTOR, new SuggestionCodeActions(store, sets, log, budgetNow), {
      providedCodeActionKinds: SuggestionCodeActions.providedCodeActionKinds,
    }),
    registerFitBudget({ store, profiler, sets, budget: budgetNow }),
    registerPlanPreviews(),
    registerWriteQuantizedCopy({ store, profiler, sets }),
    registerAfterRewrite(profiler, store),
    vscode.workspace.onDidOpenTextDocument((d) => autoProfile(d, 'open')),
    vscode.workspace.onDidSaveTextDocument((d) => autoProfile(d, 'save')),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      for (const d of vscode.workspace.textDocuments) autoProfile(d, 'open');
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('memlens.budget')) void refreshBudget();
    }),
  );
  for (const d of vscode.workspace.textDocuments) autoProfile(d, 'open');
  if (typeof __memlensLoadStart === 'number') {
    log.info(`activated in ${(performance.now() - __memlensLoadStart).toFixed(1)} ms (evaluating dist/extension.js, then activate())`);
  }
}

/** Everything else is disposed through context.subscriptions; the kept workers are stopped here. */
export async function deactivate(): Promise<void> {
  await Promise.all([loadedEngine()?.stopWorkers(), stopEngineWorker()]);
}
