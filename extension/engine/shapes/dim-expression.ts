// Arithmetic dim names some exporters write (`past_sequence_length + 1`, `2*s0`,
// `encoder_sequence_length / 2`): + - * / (floor) and parentheses over names and integers.

/** Value of the expression, or undefined when it is not one or names an unbound dim. */
export function evaluateDimExpression(text: string, lookup: (name: string) => number | undefined): number | undefined {
  const tokens = text.match(/[A-Za-z_][\w.]*|\d+|\/\/|[-+*/()]|\S/g);
  if (!tokens) return undefined;
  let pos = 0;
  const peek = () => tokens[pos];
  const fail = (): never => {
    throw new SyntaxError(text);
  };
  const primary = (): number => {
    const t = tokens[pos++];
    if (t === undefined) return fail();
    if (t === '(') {
      const v = sum();
      if (tokens[pos++] !== ')') fail();
      return v;
    }
    if (t === '-') return -primary();
    if (/^\d+$/.test(t)) return Number(t);
    if (/^[A-Za-z_]/.test(t)) {
      const v = lookup(t);
      return v === undefined ? fail() : v;
    }
    return fail();
  };
  const product = (): number => {
    let v = primary();
    while (peek() === '*' || peek() === '/' || peek() === '//') {
      const op = tokens[pos++];
      const r = primary();
      if (op === '*') v *= r;
      else if (r === 0) fail();
      else v = Math.floor(v / r);
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (peek() === '+' || peek() === '-') {
      const op = tokens[pos++];
      const r = product();
      v = op === '+' ? v + r : v - r;
    }
    return v;
  };
  try {
    const v = sum();
    return pos === tokens.length && Number.isInteger(v) && v >= 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a dim name is arithmetic rather than a plain name. */
export function isDimExpression(name: string): boolean {
  return /[-+*/()]/.test(name.replace(/^[A-Za-z_][\w.]*$/, ''));
}
