// "MemLens: Fit to Budget…": asks for a budget (the configured one by default), runs the planner
// on the model, shows the plan and its frontier (peak · recompute), and applies the chosen plan:
// source edits through one WorkspaceEdit (applied at once or after a diff preview, one undo
// step either way, with a message saying what was applied), or for an .onnx model a NEW rewritten file.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { MemlensError } from '../engine/errors';
import type { Profile } from '../engine/profile';
import type { Plan, PlanTarget } from '../engine/suggest/planner';
import { formatBytes, parseBytes } from '../engine/units';
import type { Budget } from '../presentation/budget';
import { modelKind } from '../analysis/model-kind';
import { changesNothing, planPicks, planWhat, staleReason, type PlanPick } from '../presentation/suggestion-actions';
import { engine, engineWorker } from './engine-loader';
import { errorLine, isUserError } from './errors';
import { ONNX_EDITOR_VIEW_TYPE } from './onnx-editor';
import type { ModelProfile, ProfileStore } from './profile-store';
import type { Profiler } from './profiler';
import { AFTER_REWRITE_COMMAND, documentEdit, fixLine, refuse, type RewriteNote } from './rewrite-edits';
import type { ProfileRequest } from '../analysis/profile-file';
import type { PlainEdit } from '../../language/plain-edit';
import type { PlanOutcome } from '../analysis/suggest-file';
import type { SuggestionSets } from './suggestion-sets';
import { textHash } from '../analysis/write-file';

export const FIT_BUDGET_COMMAND = 'memlens.fitBudget';

export interface FitDeps {
  store: ProfileStore;
  profiler: Profiler;
  sets: SuggestionSets;
  budget: () => Budget | null;
}

function targetUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active?.scheme === 'file') return active;
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return tab instanceof vscode.TabInputCustom ? tab.uri : undefined;
}

/** `24.0GiB` when that reads back as the same bytes, else the exact byte count. */
function budgetText(bytes: number): string {
  const short = formatBytes(bytes).replace(' ', '');
  return parseBytes(short) === bytes ? short : String(bytes);
}

async function askBudget(current: Budget | null, peakBytes: number): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    title: 'MemLens: Fit to Budget',
    prompt: `The memory the model must fit in (its peak now: ${formatBytes(peakBytes)})`,
    value: current ? budgetText(current.bytes) : '',
    placeHolder: 'e.g. 24GiB',
    ignoreFocusOut: true,
    validateInput: (t) => {
      try {
        return parseBytes(t, 'budget') > 0 ? undefined : 'the budget must be more than 0 bytes';
      } catch (e) {
        return e instanceof MemlensError ? e.message : String(e);
      }
    },
  });
  return text === undefined ? undefined : parseBytes(text, 'budget');
}

export function registerFitBudget(deps: FitDeps): vscode.Disposable {
  return vscode.commands.registerCommand(FIT_BUDGET_COMMAND, async (arg?: unknown) => {
    const uri = targetUri(arg);
    const kind = uri ? modelKind(uri.fsPath) : null;
    if (!uri || !kind) {
      refuse('open a model file first (.ts using memlens/nn, a PyTorch .py, or an .onnx file)');
      return;
    }
    const found = deps.store.forFile(uri) ?? (await deps.profiler.profile(uri, { reason: 'command' }));
    if (!found) return;
    const budget = await askBudget(deps.budget(), found.profile.peak.bytes);
    if (budget === undefined) return;
    const target: PlanTarget = kind === 'onnx' ? 'onnx' : kind === 'typescript' ? 'typescript' : 'any';
    const first = await planWithProgress(deps, found, budget, target);
    if (!first) return;
    const picks = planPicks(first.plan);
    const items: (vscode.QuickPickItem & { pick?: PlanPick })[] = picks.map((p) => ({ label: p.label, description: p.description, detail: p.detail, pick: p }));
    if (items.length > 1) items.splice(1, 0, { label: 'frontier: peak · recompute', kind: vscode.QuickPickItemKind.Separator });
    const item = await vscode.window.showQuickPick(items, {
      title: `MemLens: plans for ${formatBytes(budget)} (${path.basename(found.uri.fsPath)}, peak ${formatBytes(first.plan.baselinePeakBytes)})`,
      placeHolder: 'The plan first, then the other plans on the frontier; pick one to apply it',
      matchOnDescription: true,
      ignoreFocusOut: true,
    });
    const pick = item?.pick;
    if (!pick) return;
    // A frontier point is the cheapest plan under its own peak: plan again with that as the budget.
    const chosen = pick.chosen || pick.peakBytes === null ? first : await planWithProgress(deps, found, pick.peakBytes, target);
    if (!chosen) return;
    if (changesNothing(chosen.plan.chosen)) {
      void vscode.window.showInformationMessage(`MemLens: ${chosen.plan.message}; nothing to change`);
      return;
    }
    if (kind === 'onnx') await writeOnnxPlan(deps, found, chosen.plan);
    else await applySourcePlan(uri, found, chosen, kind);
  });
}

async function planWithProgress(deps: FitDeps, found: ModelProfile, budget: number, target: PlanTarget): Promise<PlanOutcome | undefined> {
  const controller = new AbortController();
  try {
    return await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `MemLens: fitting ${path.basename(found.uri.fsPath)} into ${formatBytes(budget)}`, cancellable: true },
      async (_p, token) => {
        const sub = token.onCancellationRequested(() => controller.abort());
        try {
          return await engineWorker().fit(deps.sets.request(found, controller.signal), budget, target);
        } finally {
          sub.dispose();
        }
      },
    );
  } catch (e) {
    if (!controller.signal.aborted) void vscode.window.showErrorMessage(`MemLens: ${isUserError(e) ? e.message : errorLine(e)}`);
    return undefined;
  }
}

async function applySourcePlan(uri: vscode.Uri, found: ModelProfile, outcome: PlanOutcome, kind: 'typescript' | 'python'): Promise<void> {
  const document = await vscode.workspace.openTextDocument(uri);
  const text = document.getText();
  const stale = staleReason({ name: path.basename(uri.fsPath), isDirty: document.isDirty, textHash: textHash(text), analysedHash: outcome.hashes[path.resolve(uri.fsPath)] });
  if (stale) return refuse(stale);
  const { edits, unmapped } = await (await engine().sourceRewriter(kind)).applyPlan(outcome.plan, uri.fsPath, text, found.uri.fsPath);
  if (edits.length === 0) return refuse(`no part of the plan has a place in ${path.basename(uri.fsPath)}${unmapped.length ? `: ${unmapped.join('; ')}` : ''}`);
  const c = outcome.plan.chosen;
  const label = `MemLens: ${planWhat(c)} (peak ${formatBytes(c.verifiedPeakBytes)})`;
  const how = await vscode.window.showInformationMessage(
    `Apply the plan to ${path.basename(uri.fsPath)}?`,
    {
      modal: true,
      detail: `${planWhat(c)}: peak ${formatBytes(outcome.plan.baselinePeakBytes)} → ${formatBytes(c.verifiedPeakBytes)}, +${Math.round(100 * c.recomputeShare)}% forward compute. `
        + `${edits.length} edit${edits.length > 1 ? 's' : ''}; Undo takes them back.`,
    },
    'Apply', 'Preview…',
  );
  if (!how) return;
  if (how === 'Preview…' && !(await previewPlan(document, edits, label))) return;
  const note: RewriteNote = { action: planWhat(c), line: fixLine(document, edits) };
  const applied = await vscode.workspace.applyEdit(documentEdit(uri, edits, { label, needsConfirmation: false }), { isRefactoring: true });
  if (!applied || !(await changed(uri, text))) return refuse(`the plan was not applied: ${path.basename(uri.fsPath)} changed while it was shown; profile it again`);
  const rest = unmapped.length ? `; not in ${path.basename(uri.fsPath)} (apply by hand): ${unmapped.join('; ')}` : '';
  void vscode.window.showInformationMessage(`MemLens: applied ${planWhat(c)} to ${path.basename(uri.fsPath)} (peak ${formatBytes(outcome.plan.baselinePeakBytes)} → ${formatBytes(c.verifiedPeakBytes)}); Undo takes it back${rest}`);
  await vscode.commands.executeCommand(AFTER_REWRITE_COMMAND, uri, found.uri, note);
}

export const PLAN_PREVIEW_SCHEME = 'memlens-plan';
const previews = new Map<string, string>();

/** Read-only documents holding a file as the plan would leave it, for the preview's diff. */
export function registerPlanPreviews(): vscode.Disposable {
  return vscode.workspace.registerTextDocumentContentProvider(PLAN_PREVIEW_SCHEME, {
    provideTextDocumentContent: (uri) => previews.get(uri.toString()) ?? '',
  });
}

/**
 * The preview: a diff of the file and the file with the plan applied, then Apply or Cancel. (The
 * Refactor Preview would open with edits that need confirmation unticked, and apply nothing.)
 */
async function previewPlan(document: vscode.TextDocument, edits: readonly PlainEdit[], label: string): Promise<boolean> {
  const after = vscode.Uri.from({ scheme: PLAN_PREVIEW_SCHEME, path: document.uri.path, query: String(Date.now()) });
  previews.set(after.toString(), withEdits(document, edits));
  try {
    await vscode.commands.executeCommand('vscode.diff', document.uri, after, `${path.basename(document.uri.fsPath)} ↔ ${label}`, { preview: true });
    const pick = await vscode.window.showInformationMessage(`${label}: apply these edits to ${path.basename(document.uri.fsPath)}?`, { modal: true, detail: 'The diff shows the file before and after the plan. Undo takes the edits back.' }, 'Apply');
    await closeTabsOf(after);
    return pick === 'Apply';
  } finally {
    previews.delete(after.toString());
  }
}

async function closeTabsOf(uri: vscode.Uri): Promise<void> {
  const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.toString() === uri.toString());
  if (tabs.length) await vscode.window.tabGroups.close(tabs);
}

/** The document's text with the edits applied (they do not overlap). */
function withEdits(document: vscode.TextDocument, edits: readonly PlainEdit[]): string {
  const text = document.getText();
  const at = (p: PlainEdit['start']) => document.offsetAt(new vscode.Position(p.line, p.character));
  const sorted = [...edits].sort((a, b) => at(b.start) - at(a.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, at(e.start)) + e.newText + out.slice(at(e.end));
  return out;
}

/** Whether the document's text moved on from `before`. */
async function changed(uri: vscode.Uri, before: string): Promise<boolean> {
  const document = await vscode.workspace.openTextDocument(uri);
  return document.getText() !== before;
}

/** An .onnx model is never overwritten: the plan goes to a new file, which then opens. */
async function writeOnnxPlan(deps: FitDeps, found: ModelProfile, plan: Plan): Promise<void> {
  const base = path.basename(found.uri.fsPath, '.onnx');
  const output = await vscode.window.showSaveDialog({
    title: 'MemLens: write the model with the plan applied (a new file)',
    defaultUri: vscode.Uri.file(path.join(path.dirname(found.uri.fsPath), `${base}.fit.onnx`)),
    filters: { 'ONNX model': ['onnx'] },
  });
  if (!output) return;
  await writeOnnxCopy(deps.sets.request(found), found.profile.peak.bytes, output, plan.chosen.rewrites, { store: deps.store, action: planWhat(plan.chosen), previous: found.profile });
}

/** The copy's timeline draws the model it was made from beside it. */
export interface CopyNote {
  store: ProfileStore;
  action: string;
  previous: Profile;
}

export async function writeOnnxCopy(req: ProfileRequest, basePeakBytes: number, output: vscode.Uri, rewrites: Plan['chosen']['rewrites'], note: CopyNote): Promise<void> {
  try {
    const r = await engine().writeRewrittenOnnx(req, output.fsPath, rewrites);
    void vscode.window.showInformationMessage(`MemLens: wrote ${path.basename(output.fsPath)} (peak ${formatBytes(r.peakBytes)}, was ${formatBytes(basePeakBytes)})`);
    note.store.expectFix(output, { action: note.action, file: null, line: null, previous: note.previous });
    await vscode.commands.executeCommand('vscode.openWith', output, ONNX_EDITOR_VIEW_TYPE);
  } catch (e) {
    refuse(isUserError(e) ? e.message : errorLine(e));
  }
}
