// Suggestions and plans in a TypeScript model file (ts-morph edits of the model API's calls):
// a suggestion is placed where its edits go, and its edits are made again on the text then.
import type { PlanEdits, SourceRewriter } from '../../source-rewrites';
import { piecesOfPlan, piecesOfSuggestion, sourceRewrite } from './apply-to-source';
import { applyEdits, type TextEdit } from './text-edit';

/** Edits without their file (the text they apply to is the one given). */
const plain = (edits: TextEdit[]) => edits.map(({ start, end, newText }) => ({ start, end, newText }));

export const typescriptRewriter: SourceRewriter = {
  async place(s, file, text) {
    const r = sourceRewrite(file, text, piecesOfSuggestion(s));
    if (r.edits.length === 0) return null; // nothing in this file to change
    // The edits' own lines, leaving out import changes at the top.
    const lines = text.split('\n');
    const editLines = r.edits
      .map((e) => e.start.line)
      .filter((l) => l < lines.length && !/^\s*import\b/.test(lines[l]))
      .map((l) => l + 1);
    return { lines: editLines, action: null, site: { language: 'typescript' } };
  },
  async edits(s, _site, file, text) {
    return plain(sourceRewrite(file, text, piecesOfSuggestion(s)).edits);
  },
  async applyPlan(plan, file, text): Promise<PlanEdits> {
    const r = sourceRewrite(file, text, piecesOfPlan(plan));
    return { text: applyEdits(text, r.edits), edits: plain(r.edits), applied: [], unmapped: r.unmapped };
  },
};
