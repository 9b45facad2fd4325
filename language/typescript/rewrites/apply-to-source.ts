// From suggestions and plans (plain data from the engine) to edits of a TypeScript model file:
// module scopes from node origins (`h.3`, `h.*.mlp`, `lm_head`) name the attributes to edit.
import { Project, type SourceFile } from 'ts-morph';
import type { Plan } from '../../../extension/engine/suggest/planner';
import type { Suggestion, SuggestionSpec } from '../../../extension/engine/suggest/types';
import { scopeSegments } from '../../../extension/engine/suggest/scopes';
import { fusedAttention, kvCacheDtype, markLayers, quantizeEntries, quantizeModule, wrapChildCalls, wrapLoopCalls, type RegionMarker } from './markers';
import { nnAccess } from './nn-import';
import { applyEdits, type TextEdit } from './text-edit';

export interface SourceRewrite {
  edits: TextEdit[];
  /** Pieces that have no source form here (shown to the user instead of being dropped silently). */
  unmapped: string[];
}

/** One piece of a rewrite, in source terms. */
export type SourcePiece =
  | { kind: 'region-loop'; marker: RegionMarker; attr: string }
  | { kind: 'region-child'; marker: RegionMarker; child: string }
  | { kind: 'region-layers'; marker: RegionMarker; attr: string; indices: number[] }
  | { kind: 'quantize'; attr: string | null; format: 'int8' | 'int4' | 'fp8'; groupSize: number | null }
  | { kind: 'kv-dtype'; dtype: 'int8' | 'fp8' }
  | { kind: 'fused-attention' }
  | { kind: 'unmapped'; what: string };

function parseSource(file: string, text: string): SourceFile {
  const project = new Project({ useInMemoryFileSystem: true, skipAddingFilesFromTsConfig: true });
  return project.createSourceFile(file.endsWith('.ts') ? file : `${file}.ts`, text, { overwrite: true });
}

const lastSegment = (scope: string) => {
  const s = scopeSegments(scope);
  return s[s.length - 1] ?? '';
};

/** What a suggestion's source form reads: its spec, its settings, and its action for what has no form. */
export type SuggestionLike = SuggestionSpec & Pick<Suggestion, 'action' | 'settings'>;

export function piecesOfSuggestion(s: SuggestionLike): SourcePiece[] {
  const d = s.detail;
  switch (d.kind) {
    case 'checkpoint':
    case 'offload':
      return d.child ? [{ kind: 'region-child', marker: d.kind, child: d.child }] : [{ kind: 'region-loop', marker: d.kind, attr: lastSegment(d.loop) }];
    case 'quantize':
      return d.modules.map((m) => ({ kind: 'quantize' as const, attr: m === 'model' ? null : lastSegment(m.replace(/\.\*$/, '')), format: d.format, groupSize: d.groupSize }));
    case 'kv':
      return d.format === 'int8' || d.format === 'fp8' ? [{ kind: 'kv-dtype', dtype: d.format }] : [{ kind: 'unmapped', what: s.action }];
    case 'attention':
      return [{ kind: 'fused-attention' }];
    default:
      return [{ kind: 'unmapped', what: `${s.action} (no source form in the model API: ${s.settings ? 'an analysis setting' : 'not expressible'})` }];
  }
}

/**
 * A plan's pieces: its global choices (as suggestions) and its checkpointed layers. Layers are
 * grouped by the loop's attribute (`blocks`): all of a loop wraps the loop's calls; some mark
 * those layers.
 */
export function piecesOfPlan(plan: Plan): SourcePiece[] {
  const pieces: SourcePiece[] = [];
  const byAttr = new Map<string, number[]>();
  for (const step of plan.chosen.steps) {
    if (step.kind === 'suggestion') {
      pieces.push(...piecesOfSuggestion({ ...step.spec, action: step.label, settings: step.settings }));
      continue;
    }
    const attr = lastSegment(step.loop);
    byAttr.set(attr, [...(byAttr.get(attr) ?? []), ...step.indices]);
  }
  for (const [attr, indices] of byAttr) {
    const layers = plan.loops.filter((l) => lastSegment(l.loop) === attr).reduce((n, l) => n + l.layers, 0);
    pieces.push(indices.length === layers && layers > 0
      ? { kind: 'region-loop', marker: 'checkpoint', attr }
      : { kind: 'region-layers', marker: 'checkpoint', attr, indices: [...indices].sort((a, b) => a - b) });
  }
  return pieces;
}

export function sourceRewrite(file: string, text: string, pieces: SourcePiece[]): SourceRewrite {
  const sf = parseSource(file, text);
  const nn = nnAccess(sf);
  const edits: TextEdit[] = [];
  const unmapped: string[] = [];
  const imports = new Set<string>();
  for (const p of pieces) {
    let found: TextEdit[] = [];
    switch (p.kind) {
      case 'region-loop': found = wrapLoopCalls(sf, file, nn, p.attr, p.marker); imports.add(p.marker); break;
      case 'region-child': found = wrapChildCalls(sf, file, nn, p.child, p.marker); imports.add(p.marker); break;
      case 'region-layers': found = markLayers(sf, file, nn, p.attr, p.indices, p.marker); imports.add(p.marker); break;
      case 'quantize':
        found = p.attr ? quantizeModule(sf, file, nn, p.attr, p.format, p.groupSize) : quantizeEntries(sf, file, nn, p.format, p.groupSize);
        imports.add('quantize');
        break;
      case 'kv-dtype': found = kvCacheDtype(sf, file, p.dtype); break;
      case 'fused-attention': found = fusedAttention(sf, file); break;
      case 'unmapped': unmapped.push(p.what); continue;
    }
    if (found.length === 0 && !alreadyApplied(sf, p, nn.ref.bind(nn))) unmapped.push(describe(p));
    edits.push(...found);
  }
  const markerEdits = edits.length ? nn.importEdits(file, [...imports]) : [];
  return { edits: [...markerEdits, ...edits], unmapped };
}

/** A piece with no edit is fine when the file already has it (idempotence), not otherwise. */
function alreadyApplied(sf: SourceFile, p: SourcePiece, ref: (n: string) => string): boolean {
  const text = sf.getFullText();
  switch (p.kind) {
    case 'region-loop':
    case 'region-child':
    case 'region-layers': return text.includes(`${ref(p.marker)}(`);
    case 'quantize': return text.includes(`${ref('quantize')}(`);
    case 'kv-dtype': return text.includes(`dtype: '${p.dtype}'`);
    case 'fused-attention': return /'fused'/.test(text);
    case 'unmapped': return false;
  }
}

function describe(p: SourcePiece): string {
  switch (p.kind) {
    case 'region-loop': return `${p.marker} the loop over ${p.attr}: no \`for (... of ...${p.attr})\` loop calling forward found`;
    case 'region-child': return `${p.marker} ${p.child}: no \`this.${p.child}.forward(...)\` call found`;
    case 'region-layers': return `${p.marker} layers ${p.indices.join(', ')} of ${p.attr}: no \`this.${p.attr} = ...\` in a constructor found`;
    case 'quantize': return `quantize ${p.attr ?? 'the model'}: no construction to wrap found`;
    case 'kv-dtype': return `KV cache dtype: no \`new KVCache({...})\` found`;
    case 'fused-attention': return 'fused attention: no attention option found';
    case 'unmapped': return p.what;
  }
}

/** Convenience: the rewritten text. */
export function rewriteText(file: string, text: string, pieces: SourcePiece[]): { text: string; unmapped: string[] } {
  const r = sourceRewrite(file, text, pieces);
  return { text: applyEdits(text, r.edits), unmapped: r.unmapped };
}
