// Problems on the lines that push the peak over the budget (the largest shares at the peak,
// until the excess is covered), with code memlens.overBudget for code actions to attach to.
import * as vscode from 'vscode';
import type { Budget } from '../presentation/budget';
import { OVER_BUDGET_CODE, overBudget } from '../presentation/over-budget';
import type { ProfileStore } from './profile-store';

export class BudgetDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('memlens');
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly store: ProfileStore,
    private readonly budget: () => Budget | null,
  ) {
    this.subscription = store.onDidChange(() => this.update());
  }

  update(): void {
    this.collection.clear();
    const budget = this.budget();
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const { profile } of this.store.all()) {
      const over = overBudget(profile, budget?.bytes ?? null);
      if (!over) continue;
      for (const l of over.lines) {
        const file = l.figures.file!;
        const line = l.figures.line! - 1;
        const d = new vscode.Diagnostic(new vscode.Range(line, 0, line, Number.MAX_SAFE_INTEGER), l.message, vscode.DiagnosticSeverity.Warning);
        d.source = 'MemLens';
        d.code = OVER_BUDGET_CODE;
        const list = byFile.get(file) ?? [];
        list.push(d);
        byFile.set(file, list);
      }
    }
    for (const [file, list] of byFile) this.collection.set(vscode.Uri.file(file), list);
  }

  dispose(): void {
    this.subscription.dispose();
    this.collection.dispose();
  }
}
