// An edit of one text as plain data (0-based lines and UTF-16 characters, as editors count them).

export interface PlainEdit {
  start: { line: number; character: number };
  end: { line: number; character: number };
  newText: string;
}

/** The smallest single edit turning `before` into `after` (common prefix and suffix kept). */
export function spanEdit(before: string, after: string): PlainEdit | null {
  if (before === after) return null;
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let end = 0;
  while (end < before.length - start && end < after.length - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end++;
  const pos = (offset: number) => {
    const head = before.slice(0, offset);
    const line = head.split('\n').length - 1;
    return { line, character: offset - (head.lastIndexOf('\n') + 1) };
  };
  return { start: pos(start), end: pos(before.length - end), newText: after.slice(start, after.length - end) };
}
