// The Problems of model files. Over budget: the lines that push the peak over the budget (the
// largest shares at the peak, until the excess is covered), with code memlens.overBudget for code
// actions to attach to; each file's come from the one profile that describes it (its own, else
// the latest with lines in it), so profiles of several entries never pile up on a line. Errors:
// a shape or trace error on the line it names, until the model's next profile. A file edited
// since its profile shows neither (the lines moved).
import * as vscode from 'vscode';
import type { SourceAt } from '../engine/errors';
import type { Budget } from '../presentation/budget';
import { OVER_BUDGET_CODE, overBudgetLinesOf } from '../presentation/over-budget';
import type { EditTracker } from './edit-tracker';
import type { ModelProfile, ProfileStore } from './profile-store';

export const MODEL_ERROR_CODE = 'memlens.modelError';

interface ModelError {
  at: SourceAt;
  message: string;
}

const lineRange = (line: number) => new vscode.Range(line - 1, 0, line - 1, Number.MAX_SAFE_INTEGER);

export class ModelDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('memlens');
  private readonly subscriptions: vscode.Disposable[];
  /** Per model uri: its last failure with a source line, until a new profile of it. */
  private readonly errors = new Map<string, ModelError>();
  private readonly seen = new Map<string, ModelProfile>();

  constructor(
    private readonly store: ProfileStore,
    private readonly budget: () => Budget | null,
    private readonly edits: EditTracker,
  ) {
    this.subscriptions = [
      store.onDidChange((uri) => {
        this.noteStatus(uri);
        this.update();
      }),
      edits.onDidChange(() => this.update()),
    ];
  }

  private noteStatus(uri: vscode.Uri): void {
    const key = uri.toString();
    const status = this.store.status(uri);
    const found = this.store.get(uri);
    if (status?.state === 'error') {
      if (status.at) this.errors.set(key, { at: status.at, message: status.message });
      else this.errors.delete(key);
    } else if (found && this.seen.get(key) !== found) {
      this.errors.delete(key);
    }
    if (found) this.seen.set(key, found);
  }

  update(): void {
    const byFile = new Map<string, vscode.Diagnostic[]>();
    const add = (file: string, d: vscode.Diagnostic) => byFile.set(file, [...(byFile.get(file) ?? []), d]);
    const budgetBytes = this.budget()?.bytes ?? null;
    for (const file of this.describedFiles()) {
      if (this.edits.isEdited(file)) continue;
      const owner = this.store.forFile(vscode.Uri.file(file));
      if (!owner) continue;
      for (const l of overBudgetLinesOf(owner.profile, file, budgetBytes)) {
        const d = new vscode.Diagnostic(lineRange(l.figures.line!), l.message, vscode.DiagnosticSeverity.Warning);
        d.source = 'MemLens';
        d.code = OVER_BUDGET_CODE;
        add(file, d);
      }
    }
    for (const e of this.errors.values()) {
      if (this.edits.isEdited(e.at.file)) continue;
      const d = new vscode.Diagnostic(lineRange(e.at.line), e.message, vscode.DiagnosticSeverity.Error);
      d.source = 'MemLens';
      d.code = MODEL_ERROR_CODE;
      add(e.at.file, d);
    }
    this.collection.clear();
    for (const [file, list] of byFile) this.collection.set(vscode.Uri.file(file), list);
  }

  /** Every source file some profile has lines in. */
  private describedFiles(): Set<string> {
    const files = new Set<string>();
    for (const { profile } of this.store.all()) for (const l of profile.lines) if (l.file !== null && l.line !== null) files.add(l.file);
    return files;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.collection.dispose();
  }
}
