// Memory-saving rewrites as edits of model source, behind one interface for every language
// MemLens reads: where a suggestion applies in a file, its edits, and a whole plan applied. The
// editor's code actions and Fit to Budget and the CLI's `fit --out/--write` all go through it.
import type { Plan } from '../extension/engine/suggest/planner';
import type { Suggestion } from '../extension/engine/suggest/types';
import type { PlainEdit } from './plain-edit';
import type { RewriteKind as PythonRewriteKind } from './python/rewrites';

export type SourceLanguage = 'typescript' | 'python';


/** What a language needs to make a placed suggestion's edits again, later, on the text then. */
export type RewriteSite =
  | { language: 'typescript' }
  | { language: 'python'; rewrite: PythonRewriteKind; line: number };

export interface SuggestionPlacement {
  /** 1-based lines the rewrite edits (import lines at the top left out). */
  lines: number[];
  /** The language's own idiom for the action (Python: the torch call), or null to use the suggestion's. */
  action: string | null;
  site: RewriteSite;
}

export interface PlanEdits {
  /** The text with the plan applied. */
  text: string;
  /** Edits of the original text that give `text`. */
  edits: PlainEdit[];
  /** What each applied rewrite does, for people. */
  applied: string[];
  /** Parts of the plan with no place in this file (shown, never dropped silently). */
  unmapped: string[];
}

export interface SourceRewriter {
  /**
   * Where a suggestion applies in `text` (the file `file`, one of the model's files; `modelFile`
   * is the file that was profiled), or null when it has no place there.
   */
  place(s: Suggestion, file: string, text: string, modelFile: string): Promise<SuggestionPlacement | null>;
  /** A placed suggestion's edits against `text` now (none when it no longer applies). */
  edits(s: Suggestion, site: RewriteSite, file: string, text: string): Promise<PlainEdit[]>;
  /** The whole plan applied to `text`, rewrite after rewrite. */
  applyPlan(plan: Plan, file: string, text: string, modelFile: string): Promise<PlanEdits>;
}

/** The rewriter of a language; each loads its parser (ts-morph, tree-sitter) only when asked for. */
export async function sourceRewriter(language: SourceLanguage): Promise<SourceRewriter> {
  switch (language) {
    case 'typescript': return (await import('./typescript/rewrites/suggestion-rewrites')).typescriptRewriter;
    case 'python': return (await import('./python/suggestion-rewrites')).pythonRewriter;
  }
}
