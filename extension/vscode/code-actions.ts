// Memory-saving rewrites as code actions on the lines of a TypeScript or PyTorch model: titles
// carry the re-analysed peak, quick fixes attach to the over-budget problems, the best one is
// preferred. Suggestions come from the cache per profile; the edit itself is computed against
// the document's current text only when an action is chosen (resolveCodeAction).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Suggestion } from '../engine/suggest/types';
import { modelKind } from '../analysis/model-kind';
import { OVER_BUDGET_CODE } from '../presentation/over-budget';
import {
  actionsForLine, pythonTarget, staleReason, suggestionLines, type LineSuggestion, type PythonRewriteKind,
} from '../presentation/suggestion-actions';
import { engine } from './engine-loader';
import { errorLine, isUserError } from './errors';
import type { ProfileStore } from './profile-store';
import type { SuggestionSet } from '../analysis/suggest-file';
import { untilCancelled, type SuggestionSets } from './suggestion-sets';
import { FIT_BUDGET_COMMAND } from './fit-budget';
import { documentEdit, fixLine, refuse, AFTER_REWRITE_COMMAND, type RewriteNote } from './rewrite-edits';

/** Where a prepared suggestion applies in one document. */
type Placement =
  | { kind: 'typescript' }
  | { kind: 'python'; rewrite: PythonRewriteKind; line: number };

interface Prepared extends LineSuggestion {
  placement: Placement;
}

interface ActionData {
  uri: vscode.Uri;
  profileUri: vscode.Uri;
  suggestion: Suggestion;
  placement: Placement;
  hashes: Record<string, string>;
}

class SuggestionAction extends vscode.CodeAction {
  constructor(title: string, kind: vscode.CodeActionKind, readonly data: ActionData) {
    super(title, kind);
  }
}

const REWRITE_KIND = vscode.CodeActionKind.RefactorRewrite.append('memlens');
const FIX_KIND = vscode.CodeActionKind.QuickFix.append('memlens');
const FIT_KIND = vscode.CodeActionKind.RefactorRewrite.append('memlens.fit');

export class SuggestionCodeActions implements vscode.CodeActionProvider {
  static readonly providedCodeActionKinds = [vscode.CodeActionKind.QuickFix, vscode.CodeActionKind.RefactorRewrite];

  /** Per suggestion set, per document version: where each suggestion applies. */
  private readonly prepared = new WeakMap<SuggestionSet, Map<string, Promise<Prepared[]>>>();

  constructor(
    private readonly store: ProfileStore,
    private readonly sets: SuggestionSets,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async provideCodeActions(document: vscode.TextDocument, range: vscode.Range | vscode.Selection, context: vscode.CodeActionContext, token: vscode.CancellationToken): Promise<vscode.CodeAction[]> {
    if (document.uri.scheme !== 'file' || !vscode.workspace.isTrusted) return [];
    const kind = modelKind(document.uri.fsPath);
    if (kind !== 'typescript' && kind !== 'python') return [];
    const wants = (k: vscode.CodeActionKind) => !context.only || context.only.contains(k) || k.contains(context.only);
    if (!wants(FIX_KIND) && !wants(REWRITE_KIND)) return [];
    const found = this.store.forFile(document.uri);
    if (!found) return [];
    let set: SuggestionSet | undefined;
    try {
      set = await untilCancelled(this.sets.get(found), token);
    } catch (e) {
      // The lightbulb stays quiet; the reason goes to the MemLens output.
      this.log.warn(`suggestions for ${path.basename(found.uri.fsPath)}: ${errorLine(e)}`);
      if (!isUserError(e) && e instanceof Error) this.log.error(e.stack ?? e.message);
      return [];
    }
    if (!set || token.isCancellationRequested) return [];
    let list: Prepared[] | undefined;
    try {
      list = await untilCancelled(this.prepare(set, document, kind, found.uri.fsPath), token);
    } catch (e) {
      this.log.error(`placing suggestions in ${path.basename(document.uri.fsPath)}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      return [];
    }
    this.log.trace(`code actions ${path.basename(document.uri.fsPath)}:${range.start.line + 1}: ${set.items.length} suggestions, ${list?.length ?? 'cancelled'} placed`);
    if (!list || token.isCancellationRequested) return [];

    const line = range.start.line + 1;
    const problem = context.diagnostics.find((d) => d.code === OVER_BUDGET_CODE && d.range.start.line === range.start.line);
    const stale = staleReason({
      name: path.basename(document.uri.fsPath),
      isDirty: document.isDirty,
      textHash: engine().textHash(document.getText()),
      analysedHash: set.hashes[path.resolve(document.uri.fsPath)],
    });
    const out: vscode.CodeAction[] = [];
    for (const a of actionsForLine(list, line, document.uri.fsPath, set.peakBytes, problem !== undefined)) {
      const prepared = list.find((p) => p.suggestion === a.suggestion)!;
      const actionKind = a.kind === 'quickfix' ? FIX_KIND : REWRITE_KIND;
      if (!wants(actionKind)) continue;
      const action = new SuggestionAction(a.title, actionKind, {
        uri: document.uri, profileUri: found.uri, suggestion: a.suggestion, placement: prepared.placement, hashes: set.hashes,
      });
      if (a.kind === 'quickfix' && problem) action.diagnostics = [problem];
      action.isPreferred = a.isPreferred;
      if (stale) action.disabled = { reason: stale };
      out.push(action);
    }
    if (out.length > 0 && wants(FIT_KIND)) {
      const fit = new vscode.CodeAction('Fit the model to a memory budget…', FIT_KIND);
      fit.command = { title: 'Fit to Budget…', command: FIT_BUDGET_COMMAND, arguments: [document.uri] };
      out.push(fit);
    }
    return out;
  }

  async resolveCodeAction(action: vscode.CodeAction, token: vscode.CancellationToken): Promise<vscode.CodeAction> {
    if (!(action instanceof SuggestionAction)) return action;
    const { uri, profileUri, suggestion, placement, hashes } = action.data;
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (!document) return action;
    const text = document.getText();
    const stale = staleReason({
      name: path.basename(uri.fsPath), isDirty: document.isDirty, textHash: engine().textHash(text), analysedHash: hashes[path.resolve(uri.fsPath)],
    });
    if (stale) {
      refuse(stale);
      return action;
    }
    const edits = placement.kind === 'typescript'
      ? engine().typescriptSuggestionEdits(uri.fsPath, text, suggestion).edits
      : (await engine().pythonRewriteAt(placement.rewrite, text, placement.line))?.edits ?? [];
    if (token.isCancellationRequested) return action;
    if (edits.length === 0) {
      refuse(`${suggestion.action}: no place for it found in ${path.basename(uri.fsPath)} any more`);
      return action;
    }
    action.edit = documentEdit(uri, edits, { label: suggestion.action, needsConfirmation: false });
    const note: RewriteNote = { action: suggestion.action, line: fixLine(document, edits) };
    action.command = { title: 'Profile again', command: AFTER_REWRITE_COMMAND, arguments: [uri, profileUri, note] };
    return action;
  }

  /** Where each suggestion of `set` applies in this version of the document (computed once per version). */
  private prepare(set: SuggestionSet, document: vscode.TextDocument, kind: 'typescript' | 'python', modelFile: string): Promise<Prepared[]> {
    let byDoc = this.prepared.get(set);
    if (!byDoc) this.prepared.set(set, (byDoc = new Map<string, Promise<Prepared[]>>()));
    const key = `${document.uri.toString()}@${document.version}`;
    let p = byDoc.get(key);
    if (!p) {
      // Only the latest version of a document is kept.
      for (const k of byDoc.keys()) if (k.startsWith(`${document.uri.toString()}@`)) byDoc.delete(k);
      p = kind === 'typescript' ? this.prepareTypescript(set, document) : this.preparePython(set, document, modelFile);
      byDoc.set(key, p);
    }
    return p;
  }

  private async prepareTypescript(set: SuggestionSet, document: vscode.TextDocument): Promise<Prepared[]> {
    const file = document.uri.fsPath;
    const text = document.getText();
    const out: Prepared[] = [];
    for (const { suggestion, costLabel } of set.items) {
      const r = engine().typescriptSuggestionEdits(file, text, suggestion);
      if (r.edits.length === 0) continue; // nothing in this file to change
      // The edit's own lines, leaving out import changes at the top.
      const editLines = r.edits
        .map((e) => e.start.line)
        .filter((l) => l < document.lineCount && !/^\s*import\b/.test(document.lineAt(l).text))
        .map((l) => l + 1);
      out.push({ suggestion, costLabel, lines: suggestionLines(suggestion, file, editLines), placement: { kind: 'typescript' } });
    }
    return out;
  }

  private async preparePython(set: SuggestionSet, document: vscode.TextDocument, modelFile: string): Promise<Prepared[]> {
    const file = document.uri.fsPath;
    const text = document.getText();
    const out: Prepared[] = [];
    for (const { suggestion, costLabel } of set.items) {
      const target = pythonTarget(suggestion, text, file, modelFile);
      if (!target) continue;
      const found = await engine().firstPythonRewrite(target, text);
      if (!found) continue;
      out.push({
        suggestion, costLabel, action: target.action,
        lines: suggestionLines(suggestion, file, [found.line]),
        placement: { kind: 'python', rewrite: target.kind, line: found.line },
      });
    }
    return out;
  }
}
