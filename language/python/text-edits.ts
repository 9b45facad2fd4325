// Plain text edits over Python source (0-based lines and UTF-16 characters, as editors use) and
// the small helpers rewrites share: statement lookup, indentation, idempotent imports.
import type { SyntaxNode } from './parser';

export interface Position {
  line: number;
  character: number;
}

export interface TextEdit {
  start: Position;
  end: Position;
  newText: string;
}

export const startOf = (n: SyntaxNode): Position => ({ line: n.startPosition.row, character: n.startPosition.column });
export const endOf = (n: SyntaxNode): Position => ({ line: n.endPosition.row, character: n.endPosition.column });

export function replaceNode(n: SyntaxNode, newText: string): TextEdit {
  return { start: startOf(n), end: endOf(n), newText };
}

function offsetOf(lines: string[], p: Position): number {
  let offset = 0;
  for (let i = 0; i < p.line; i++) offset += lines[i].length + 1;
  return offset + p.character;
}

/** Applies non-overlapping edits (positions refer to the original text). */
export function applyEdits(text: string, edits: TextEdit[]): string {
  const lines = text.split('\n');
  const sorted = edits
    .map((e, i) => ({ e, i, from: offsetOf(lines, e.start), to: offsetOf(lines, e.end) }))
    // Back to front; insertions at one position keep their given order.
    .sort((a, b) => b.from - a.from || b.to - a.to || b.i - a.i);
  let out = text;
  for (const { e, from, to } of sorted) out = out.slice(0, from) + e.newText + out.slice(to);
  return out;
}

/** The innermost statement (child of a block or the module) that starts on the 0-based line. */
export function statementAt(root: SyntaxNode, line: number): SyntaxNode | null {
  let best: SyntaxNode | null = null;
  const visit = (n: SyntaxNode): void => {
    for (const c of n.namedChildren) {
      if (c.startPosition.row > line || c.endPosition.row < line) continue;
      if ((n.type === 'block' || n.type === 'module') && c.startPosition.row === line && c.type !== 'comment') best = c;
      visit(c);
    }
  };
  visit(root);
  return best;
}

export function lineIndent(text: string, row: number): string {
  const l = text.split('\n')[row] ?? '';
  return l.slice(0, l.length - l.trimStart().length);
}

/** One indentation step as the file writes it (the first indented line), default four spaces. */
export function indentUnit(text: string): string {
  const first = text.split('\n').find((l) => /^[ \t]+\S/.test(l));
  return first ? first.slice(0, first.length - first.trimStart().length) : '    ';
}

export function enclosing(n: SyntaxNode, type: string): SyntaxNode | null {
  let cur = n.parent;
  while (cur && cur.type !== type) cur = cur.parent;
  return cur;
}

/**
 * An edit adding `statement` (e.g. `import torch.utils.checkpoint`) after the last top-level
 * import, or null when the file already has it.
 */
export function ensureImport(root: SyntaxNode, statement: string): TextEdit | null {
  const normal = (s: string) => s.replace(/\s+/g, ' ').trim();
  const imports = root.namedChildren.filter((n) => n.type === 'import_statement' || n.type === 'import_from_statement' || n.type === 'future_import_statement');
  if (imports.some((n) => normal(n.text) === normal(statement))) return null;
  // torch imports go after the file's last torch import, others after its last import.
  const isTorch = (s: string) => /^(import|from) torch\b/.test(s);
  const family = isTorch(statement) ? imports.filter((n) => isTorch(n.text)) : [];
  const last = family[family.length - 1] ?? imports[imports.length - 1];
  if (last) return { start: endOf(last), end: endOf(last), newText: `\n${statement}` };
  // No imports: after a module docstring if there is one, else at the top.
  const first = root.namedChildren[0];
  if (first?.type === 'expression_statement' && first.firstNamedChild?.type === 'string') {
    return { start: endOf(first), end: endOf(first), newText: `\n${statement}` };
  }
  return { start: { line: 0, character: 0 }, end: { line: 0, character: 0 }, newText: `${statement}\n` };
}

/** Names a file binds for `torch.nn.functional` (`F` by convention), if any. */
export function functionalAlias(root: SyntaxNode): string | null {
  for (const n of root.namedChildren) {
    const t = n.text.replace(/\s+/g, ' ');
    const m = /^import torch\.nn\.functional as (\w+)$/.exec(t) ?? /^from torch\.nn import functional as (\w+)$/.exec(t);
    if (m) return m[1];
  }
  return null;
}
