// Gives every symbolic dim of the graph inputs a size: explicit --dim values first, then the
// batch/sequence alias table (dim-aliases.ts), then arithmetic names over bound dims. What stays
// unbound is reported, naming the input, so the user can set it.
import type { DType, Model } from '../graph';
import { MemlensError } from '../errors';
import type { AnalysisSettings } from '../settings';
import { GENERATED_DIM_NAME, aliasRole, type DimRole } from './dim-aliases';
import { evaluateDimExpression, isDimExpression } from './dim-expression';

interface Occurrence { input: string; axis: number; rank: number; dtype: DType }

/**
 * Role of an exporter-generated name from where it sits: axis 0 of a tensor of rank >= 2 is the
 * batch; axis 1 of integer ids/masks [B, T], of embeddings [B, T, h], and axis 2 of a cache
 * [B, H, T, d] are the sequence.
 */
function positionalRole(occurrences: Occurrence[]): DimRole | undefined {
  if (occurrences.some((o) => o.axis === 0 && o.rank >= 2)) return 'batch';
  const isInt = (d: DType) => d === 'int64' || d === 'int32';
  for (const o of occurrences) {
    if (o.axis === 1 && o.rank === 2 && isInt(o.dtype)) return 'sequence';
    if (o.axis === 1 && o.rank === 3 && /embed/i.test(o.input)) return 'sequence';
    if (o.axis === 2 && o.rank === 4 && /past|cache|key|value/i.test(o.input)) return 'sequence';
  }
  return undefined;
}

function checkSize(what: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new MemlensError(`${what} must be an integer >= ${min}, got ${v}`);
}

export function bindDims(model: Model, settings: AnalysisSettings): { dims: Record<string, number>; warnings: string[] } {
  checkSize('batch', settings.batch, 1);
  checkSize('seq', settings.seq, 1);
  const dims: Record<string, number> = {};
  for (const [name, v] of Object.entries(settings.dims)) {
    checkSize(`--dim ${name}`, v, 0);
    dims[name] = v;
  }
  const bySetting: Record<DimRole, number> = { batch: settings.batch, sequence: settings.seq };

  const occurrences = new Map<string, Occurrence[]>();
  const warnings: string[] = [];
  for (const input of model.graph.inputs) {
    input.shape?.forEach((d, axis) => {
      if (d === null) {
        warnings.push(`dimension ${axis} of input '${input.name}' has neither a size nor a name; sizes that depend on it are unknown`);
      } else if (typeof d === 'string') {
        const list = occurrences.get(d) ?? [];
        list.push({ input: input.name, axis, rank: input.shape!.length, dtype: input.dtype });
        occurrences.set(d, list);
      }
    });
  }

  const plain = (name: string): number | undefined => {
    if (name in dims) return dims[name];
    const role = aliasRole(name);
    return role ? bySetting[role] : undefined;
  };
  const expressions: string[] = [];
  for (const [name, occ] of occurrences) {
    if (name in dims) continue;
    const role = aliasRole(name) ?? (GENERATED_DIM_NAME.test(name) ? positionalRole(occ) : undefined);
    if (role) dims[name] = bySetting[role];
    else if (isDimExpression(name)) expressions.push(name);
  }
  for (const name of expressions) {
    const v = evaluateDimExpression(name, plain);
    if (v !== undefined) dims[name] = v;
  }
  for (const [name, occ] of occurrences) {
    if (!(name in dims)) warnings.push(`dimension '${name}' of input '${occ[0].input}' is symbolic; set it with --dim ${name}=N`);
  }
  return { dims, warnings };
}
