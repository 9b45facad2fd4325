// Per-line (or per-scope, when no line is known) figures: what each line of the model produces,
// holds at the peak, saves for backward, writes to the KV cache, and how often it ran.
import type { NodeOrigin } from '../graph';
import { emptyByCategory, type LineFigures } from '../profile';
import { ownerPos, type Buffer } from '../memory/buffer-types';
import type { TensorTable } from '../memory/tensor-table';
import { lineRepeats, type LineNode } from './repeats';

type Line = LineFigures & { scopes: Set<string>; calls: LineNode[] };

/** Lines by file and line number, or by scope when no line is known: nested maps, no key string per node. */
class LineIndex {
  readonly all: Line[] = [];
  private readonly bySource = new Map<string, Map<number, Line>>();
  private readonly byScope = new Map<string, Line>();

  of(o: NodeOrigin): Line {
    if (!o.source) return this.find(this.byScope, o.scope, o);
    let byLine = this.bySource.get(o.source.file);
    if (!byLine) this.bySource.set(o.source.file, (byLine = new Map<number, Line>()));
    return this.find(byLine, o.source.line, o);
  }

  private find<K>(map: Map<K, Line>, key: K, o: NodeOrigin): Line {
    let f = map.get(key);
    if (!f) {
      f = {
        file: o.source?.file ?? null,
        line: o.source?.line ?? null,
        scope: o.scope,
        bytes: 0, peakBytes: 0, peakByCategory: emptyByCategory(), savedBytes: 0, kvBytes: 0, repeats: 0, perCallBytes: 0,
        ops: {}, nodes: [], scopes: new Set<string>(), calls: [],
      };
      map.set(key, f);
      this.all.push(f);
    }
    return f;
  }
}

export function lineFigures(
  table: TensorTable,
  origins: NodeOrigin[],
  buffers: Buffer[],
  peakStep: number,
  savedTensors: Set<string>,
): LineFigures[] {
  const lines = new LineIndex();
  const lineOf: Line[] = origins.map((o, pos) => {
    const f = lines.of(o);
    f.nodes.push(table.nodes[pos].name);
    f.scopes.add(o.scope);
    f.calls.push({ opType: table.nodes[pos].opType, scope: o.scope });
    return f;
  });
  const anySaved = savedTensors.size > 0;
  for (const t of table.tensors.values()) {
    if (t.producer === null) continue;
    const f = lineOf[t.producer];
    const op = table.nodes[t.producer].opType;
    if (t.category !== 'other') {
      f.bytes += t.bytes;
      f.ops[op] = (f.ops[op] ?? 0) + t.bytes;
    }
    if (t.category === 'kvCache') f.kvBytes += t.bytes;
    if (anySaved && savedTensors.has(t.name)) f.savedBytes += t.bytes;
  }
  for (const b of buffers) {
    const owner = ownerPos(b);
    if (owner === null) continue;
    if (b.kind === 'saved') lineOf[owner].savedBytes += b.bytes;
    if (b.start <= peakStep && peakStep <= b.end) {
      lineOf[owner].peakBytes += b.bytes;
      lineOf[owner].peakByCategory[b.category] += b.bytes;
    }
  }
  const out: LineFigures[] = [];
  for (const f of lines.all) {
    const repeats = lineRepeats(f.calls);
    // The fields in the order the record was made, written out: no rest and spread per line.
    out.push({
      file: f.file, line: f.line, scope: shownScope(f.scopes), bytes: f.bytes, peakBytes: f.peakBytes, peakByCategory: f.peakByCategory,
      savedBytes: f.savedBytes, kvBytes: f.kvBytes, repeats, perCallBytes: Math.round(f.bytes / Math.max(1, repeats)), ops: f.ops, nodes: f.nodes,
    });
  }
  return out.sort((a, b) => b.peakBytes - a.peakBytes || b.bytes - a.bytes);
}

/**
 * The scope a line shows: scopes that differ only in indices (`h.0`, `h.1`) as one (`h.*`); how
 * often the line ran is counted from its nodes (repeats.ts), not from these names.
 */
function shownScope(scopes: Set<string>): string {
  if (scopes.size === 1) for (const only of scopes) return only; // its own outermost scope, in a group of one
  const byTemplate = new Map<string, string[]>();
  for (const scope of outermostScopes([...scopes])) {
    const t = scope.replace(/(^|[./])\d+(?=$|[./])/g, '$1#');
    const group = byTemplate.get(t);
    if (group) group.push(scope);
    else byTemplate.set(t, [scope]);
  }
  return [...byTemplate.values()].map(generalScope).filter(Boolean).join(', ');
}

/** Scopes that are not inside another scope of the list (`a.b` is inside `a`; `a.bc` is not). */
export function outermostScopes(scopes: string[]): string[] {
  const sorted = [...new Set(scopes)].sort();
  const out: string[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && last !== '' && (s.startsWith(last + '.') || s.startsWith(last + '/'))) continue;
    out.push(s);
  }
  const keep = new Set(out);
  return [...new Set(scopes)].filter((s) => keep.has(s)); // in the order given (execution order)
}

/** The scopes of a line that ran in several modules, generalised: `h.0.attn`, `h.1.attn` -> `h.*.attn`. */
export function generalScope(scopes: string[]): string {
  if (scopes.length <= 1) return scopes[0] ?? '';
  const sep = scopes[0].includes('/') ? '/' : '.';
  const parts = scopes.map((s) => s.split(sep));
  const len = parts[0].length;
  if (parts.every((p) => p.length === len)) {
    return parts[0].map((seg, i) => (parts.every((p) => p[i] === seg) ? seg : commonPrefix(parts.map((p) => p[i])) + '*')).join(sep);
  }
  const prefix: string[] = [];
  for (let i = 0; i < Math.min(...parts.map((p) => p.length)); i++) {
    if (!parts.every((p) => p[i] === parts[0][i])) break;
    prefix.push(parts[0][i]);
  }
  return [...prefix, '*'].join(sep);
}

function commonPrefix(values: string[]): string {
  let n = 0;
  while (values.every((v) => n < v.length && v[n] === values[0][n])) n++;
  return values[0].slice(0, n);
}
