// Gives every symbolic dim of the graph inputs a size: explicit --dim values first (by name, or by
// input and axis for a dim that has no name), then the batch/sequence alias table (dim-aliases.ts),
// then arithmetic names over bound dims. What stays unbound is reported, naming the input, so the
// user can set it; a dim bound from a default batch or sequence length, or guessed by position,
// is reported too, so no size is chosen silently.
import type { DType, Model, ValueInfo } from '../graph';
import { MemlensError } from '../errors';
import type { AnalysisSettings } from '../settings';
import { GENERATED_DIM_NAME, aliasRole, sequenceKind, type DimRole } from './dim-aliases';
import { evaluateDimExpression, isDimExpression } from './dim-expression';

interface Occurrence { input: string; axis: number; rank: number; dtype: DType }

/** The `--dim` key that sizes an axis of an input by position: `input:0`. */
export function axisDimKey(input: string, axis: number): string {
  return `${input}:${axis}`;
}

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
  if (!Number.isSafeInteger(v) || v < min) throw new MemlensError(`${what} must be an integer >= ${min}, got ${v}`);
}

/** `input:axis` keys of the settings that name an axis of a graph input, resolved against its declared dim. */
function bindAxisKeys(inputs: ValueInfo[], given: Record<string, number>, dims: Record<string, number>): void {
  for (const [key, v] of Object.entries(given)) {
    const m = /^(.+):(\d+)$/.exec(key);
    const input = m ? inputs.find((i) => i.name === m[1]) : undefined;
    if (!m || !input) continue;
    const axis = Number(m[2]);
    const rank = input.shape?.length;
    if (rank === undefined || axis >= rank) {
      throw new MemlensError(`--dim ${key}: input '${input.name}' has ${rank === undefined ? 'no declared shape' : `${rank} axes (0 to ${rank - 1})`}`);
    }
    const d = input.shape![axis];
    if (typeof d === 'number' && d !== v) throw new MemlensError(`--dim ${key}=${v}: axis ${axis} of input '${input.name}' has the fixed size ${d}`);
    if (typeof d === 'string') {
      if (Object.hasOwn(given, d) && given[d] !== v) throw new MemlensError(`--dim ${key}=${v} and --dim ${d}=${given[d]} set the same dimension differently`);
      dims[d] = v;
    }
  }
}

function occurrencesOf(inputs: ValueInfo[], dims: Record<string, number>, warnings: string[]): Map<string, Occurrence[]> {
  const occurrences = new Map<string, Occurrence[]>();
  for (const input of inputs) {
    input.shape?.forEach((d, axis) => {
      if (d === null) {
        const key = axisDimKey(input.name, axis);
        if (!Object.hasOwn(dims, key)) warnings.push(`dimension ${axis} of input '${input.name}' has neither a size nor a name; set it with --dim ${key}=N`);
      } else if (typeof d === 'string') {
        const list = occurrences.get(d) ?? [];
        list.push({ input: input.name, axis, rank: input.shape!.length, dtype: input.dtype });
        occurrences.set(d, list);
      }
    });
  }
  return occurrences;
}

const ROLE_TEXT: Record<DimRole, { what: string; flag: string; setting: 'batch' | 'seq' }> = {
  batch: { what: 'batch size', flag: '--batch', setting: 'batch' },
  sequence: { what: 'sequence length', flag: '--seq', setting: 'seq' },
};

/** Why a size bound from the batch/seq settings deserves a line: a default, or a guess by position. */
function roleWarning(name: string, occ: Occurrence, role: DimRole, value: number, byPosition: boolean, settings: AnalysisSettings): string | null {
  const r = ROLE_TEXT[role];
  const isDefault = settings.explicit !== undefined && !settings.explicit.includes(r.setting);
  if (!isDefault && !byPosition) return null;
  const what = `dimension '${name}' of input '${occ.input}'`;
  const fix = `set ${r.flag} N or --dim ${name}=N`;
  if (!byPosition) return `${what} is ${value}, the default ${r.what}; ${fix}`;
  return `${what} is taken as the ${r.what} from its position (axis ${occ.axis}): ${value}${isDefault ? ', the default' : ''}; ${fix}`;
}

/**
 * The `--input` values, checked against the graph: each names a graph input of one element (a
 * sample rate, a flag, a step count), which is what a value can stand for.
 */
export function bindInputValues(model: Model, values: Record<string, number> | undefined): Record<string, number> {
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [name, v] of Object.entries(values ?? {})) {
    const input = model.graph.inputs.find((i) => i.name === name);
    if (!input) throw new MemlensError(`--input ${name}: the model has no input '${name}' (inputs: ${model.graph.inputs.map((i) => i.name).join(', ')})`);
    const shape = input.shape;
    if (!shape || !shape.every((d) => d === 1)) {
      throw new MemlensError(`--input ${name}=${v}: input '${name}' has shape [${shape?.map((d) => d ?? '?').join(',') ?? '?'}]; only an input of one element takes a value`);
    }
    if (!Number.isFinite(v)) throw new MemlensError(`--input ${name}: expected a number, got ${v}`);
    out[name] = v;
  }
  return out;
}

/** Whether the batch, sequence and past settings sized any dimension of the model's inputs. */
export interface SizedBySettings { batch: boolean; seq: boolean; past: boolean }

/**
 * The size of an alias dim: a past dim takes `--past` (the sequence length when none is set), a
 * total dim the past and the new tokens together (KV = 2·L·H·d·(past + seq)·B, the cache after the step).
 */
function aliasSize(name: string, role: DimRole, settings: AnalysisSettings): number {
  if (role === 'batch') return settings.batch;
  const kind = sequenceKind(name);
  if (kind === 'past') return settings.past ?? settings.seq;
  if (kind === 'total' && settings.past !== undefined) return settings.past + settings.seq;
  return settings.seq;
}

/** A past dim sized without `--past`: it takes the sequence length, which a decode step rarely means. */
function pastWarning(name: string, input: string, value: number): string {
  return `dimension '${name}' of input '${input}' is ${value}, the sequence length, as no past length is set; set --past N or --dim ${name}=N`;
}

export function bindDims(model: Model, settings: AnalysisSettings): { dims: Record<string, number>; warnings: string[]; sized: SizedBySettings } {
  checkSize('batch', settings.batch, 1);
  checkSize('seq', settings.seq, 1);
  if (settings.past !== undefined) checkSize('past', settings.past, 0);
  // Null prototype: dim names such as `constructor` or `__proto__` are not already bound.
  const dims: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [name, v] of Object.entries(settings.dims)) {
    checkSize(`--dim ${name}`, v, 0);
    dims[name] = v;
  }
  const inputs = model.graph.inputs;
  bindAxisKeys(inputs, settings.dims, dims);
  const warnings: string[] = [];
  const occurrences = occurrencesOf(inputs, dims, warnings);

  const plain = (name: string): number | undefined => {
    if (Object.hasOwn(dims, name)) return dims[name];
    const role = aliasRole(name);
    return role ? aliasSize(name, role, settings) : undefined;
  };
  const expressions: string[] = [];
  const sized: SizedBySettings = { batch: false, seq: false, past: false };
  for (const [name, occ] of occurrences) {
    if (Object.hasOwn(dims, name)) continue;
    const alias = aliasRole(name);
    const role = alias ?? (GENERATED_DIM_NAME.test(name) ? positionalRole(occ) : undefined);
    if (role) {
      dims[name] = alias ? aliasSize(name, role, settings) : role === 'batch' ? settings.batch : settings.seq;
      const kind = alias && role === 'sequence' ? sequenceKind(name) : 'new';
      if (kind === 'past' && settings.past === undefined) {
        sized.seq = true;
        warnings.push(pastWarning(name, occ[0].input, dims[name]));
        continue;
      }
      if (kind !== 'new' && settings.past !== undefined) sized.past = true;
      if (kind !== 'past') sized[ROLE_TEXT[role].setting] = true;
      const line = roleWarning(name, occ[0], role, dims[name], alias === undefined, settings);
      if (line && kind !== 'past') warnings.push(line);
    } else if (isDimExpression(name)) expressions.push(name);
  }
  for (const name of expressions) {
    const v = evaluateDimExpression(name, plain);
    if (v !== undefined) dims[name] = v;
  }
  for (const [name, occ] of occurrences) {
    if (!Object.hasOwn(dims, name)) warnings.push(`dimension '${name}' of input '${occ[0].input}' is symbolic; set it with --dim ${name}=N`);
  }
  for (const setting of settings.sizedByExport ?? []) sized[setting] = true;
  warnings.push(...unusedSettingWarnings(inputs, settings, sized));
  return { dims, warnings, sized };
}

/** A batch or sequence length the user set that no input dimension takes: say what was analysed. */
function unusedSettingWarnings(inputs: ValueInfo[], settings: AnalysisSettings, sized: SizedBySettings): string[] {
  const shapes = inputs.map((i) => `'${i.name}' [${i.shape?.map((d) => d ?? '?').join(', ') ?? '?'}]`).join(', ');
  const out: string[] = [];
  for (const [setting, flag, v] of [['batch', '--batch', settings.batch], ['seq', '--seq', settings.seq]] as const) {
    if (settings.explicit?.includes(setting) && !sized[setting]) out.push(`${flag} ${v} sizes no dimension of this model; analysed with the input shapes as declared: ${shapes}`);
  }
  if (settings.past !== undefined && !sized.past) out.push(`--past ${settings.past} sizes no dimension of this model (it has no cache input); analysed with the input shapes as declared: ${shapes}`);
  return out;
}
