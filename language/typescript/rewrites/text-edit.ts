// Source edits as plain data (0-based line and character, as editors count them), and applying
// a list of them to a text.

export interface Position {
  line: number;
  character: number;
}

export interface TextEdit {
  file: string;
  start: Position;
  end: Position;
  newText: string;
}

export function offsetAt(text: string, p: Position): number {
  let offset = 0;
  for (let line = 0; line < p.line; line++) {
    const nl = text.indexOf('\n', offset);
    if (nl < 0) return text.length;
    offset = nl + 1;
  }
  return Math.min(text.length, offset + p.character);
}

export function positionAt(text: string, offset: number): Position {
  let line = 0, start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, character: offset - start };
}

/** Applies non-overlapping edits (any order) to a text. */
export function applyEdits(text: string, edits: TextEdit[]): string {
  const spans = edits
    .map((e) => ({ from: offsetAt(text, e.start), to: offsetAt(text, e.end), newText: e.newText }))
    .sort((a, b) => b.from - a.from || b.to - a.to);
  let out = text;
  let limit = Infinity;
  for (const s of spans) {
    if (s.to > limit) continue; // overlapping edit: the later-starting one wins
    out = out.slice(0, s.from) + s.newText + out.slice(s.to);
    limit = s.from;
  }
  return out;
}
