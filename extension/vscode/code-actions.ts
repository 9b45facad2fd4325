// Memory-saving rewrites as code actions on the lines of a TypeScript or PyTorch model: titles
// carry the re-analysed peak and whether it fits the budget, quick fixes attach to the
// over-budget problems, the cheapest fix that fits is preferred. Suggestions come from the cache
// per profile; the edit itself is computed against the document's current text only when an
// action is chosen (resolveCodeAction).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Suggestion } from '../engine/suggest/types';
import type { Budget } from '../presentation/budget';
import { modelKind } from '../analysis/model-kind';
import { OVER_BUDGET_CODE } from '../presentation/over-budget';
import { actionsForLine, staleReason, suggestionLines, type LineSuggestion } from '../presentation/suggestion-actions';
import type { RewriteSite } from '../../language/source-rewrites';
import { discoveryWorker, engine } from './engine-loader';
import { errorLine, isUserError } from './errors';
import type { ProfileStore } from './profile-store';
import type { SuggestionSet } from '../analysis/suggest-file';
import { untilCancelled, type SuggestionSets } from './suggestion-sets';
import { FIT_BUDGET_COMMAND } from './fit-budget';
import { documentEdit, fixLine, refuse, AFTER_REWRITE_COMMAND, type RewriteNote } from './rewrite-edits';
import { textHash } from '../analysis/write-file';

interface Prepared extends LineSuggestion {
  /** Where the suggestion applies in the document, as the language's rewriter placed it. */
  site: RewriteSite;
}

interface ActionData {
  uri: vscode.Uri;
  profileUri: vscode.Uri;
  suggestion: Suggestion;
  site: RewriteSite;
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
    /** The budget: the preferred fix is the cheapest that fits it, and titles say which fit. */
    private readonly budget: () => Budget | null = () => null,
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
      textHash: textHash(document.getText()),
      analysedHash: set.hashes[path.resolve(document.uri.fsPath)],
    });
    const out: vscode.CodeAction[] = [];
    for (const a of actionsForLine(list, line, document.uri.fsPath, set.peakBytes, problem !== undefined, this.budget()?.bytes ?? null)) {
      const prepared = list.find((p) => p.suggestion === a.suggestion)!;
      const actionKind = a.kind === 'quickfix' ? FIX_KIND : REWRITE_KIND;
      if (!wants(actionKind)) continue;
      const action = new SuggestionAction(a.title, actionKind, {
        uri: document.uri, profileUri: found.uri, suggestion: a.suggestion, site: prepared.site, hashes: set.hashes,
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
    const { uri, profileUri, suggestion, site, hashes } = action.data;
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (!document) return action;
    const text = document.getText();
    const stale = staleReason({
      name: path.basename(uri.fsPath), isDirty: document.isDirty, textHash: textHash(text), analysedHash: hashes[path.resolve(uri.fsPath)],
    });
    if (stale) {
      refuse(stale);
      return action;
    }
    const edits = await (await engine().sourceRewriter(site.language)).edits(suggestion, site, uri.fsPath, text);
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
      p = this.place(set, document, kind, modelFile);
      byDoc.set(key, p);
    }
    return p;
  }

  private async place(set: SuggestionSet, document: vscode.TextDocument, kind: 'typescript' | 'python', modelFile: string): Promise<Prepared[]> {
    const file = document.uri.fsPath;
    const text = document.getText();
    // Placing runs ts-morph or tree-sitter per suggestion: in the worker, off the host's thread.
    const placements = await discoveryWorker().place(kind, set.items.map((i) => i.suggestion), file, text, modelFile);
    const out: Prepared[] = [];
    for (const [i, { suggestion, costLabel }] of set.items.entries()) {
      const placed = placements[i];
      if (!placed) continue;
      out.push({ suggestion, costLabel, action: placed.action ?? undefined, lines: suggestionLines(suggestion, file, placed.lines), site: placed.site });
    }
    return out;
  }
}
