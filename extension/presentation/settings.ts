// The `memlens.*` settings as plain data: validated once, with one message per bad value. The
// editor adapter reads the configuration into a plain object and passes it here.
import type { AnalysisSettings, IfBranch } from '../engine/settings';
import { DEFAULT_SETTINGS, DEVICES, MODES, OPTIMIZERS, PRECISIONS, TRAIN_STEPS, ZERO_GRADS } from '../engine/settings';
import { INLINE_DETAILS } from './line-figures';
import type { InlineDetail } from './line-figures';
import { isMemlensError } from '../engine/errors';
import { DEFAULT_HIDE_BELOW, parseThreshold, type FigureThreshold } from './figure-threshold';

export const EXECUTION_PROVIDERS = ['auto', 'cpu', 'cuda', 'webgpu'] as const;
export type ExecutionProviderSetting = (typeof EXECUTION_PROVIDERS)[number];


export interface ExtensionSettings {
  analysis: AnalysisSettings;
  executionProvider: ExecutionProviderSetting;
  budget: string;
  inlineDetail: InlineDetail;
  /** memlens.hideFiguresBelow: per-line figures under it are not shown (inline, hover). */
  hideBelow: FigureThreshold;
  profileOnSave: boolean;
  pythonPath: string;
  timeoutMs: number;
  /** One line per setting that had a bad value (its default is used instead). */
  problems: string[];
}

/** Per-document overrides from "Profile with Settings" and the timeline panel's controls. */
export type SettingsOverride = Partial<Pick<AnalysisSettings, 'mode' | 'batch' | 'seq' | 'past' | 'dtype' | 'optimizer'>>;

/** memlens.pastSequenceLength: a whole number (0: no cache), or unset (null) for the sequence length. */
function readPast(v: unknown, problems: string[]): { past?: number } {
  if (v === undefined || v === null) return {};
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return { past: v };
  problems.push(`memlens.pastSequenceLength: expected a whole number of at least 0, got ${JSON.stringify(v)}`);
  return {};
}

function readHideBelow(v: unknown, problems: string[]): FigureThreshold {
  const fallback = parseThreshold(DEFAULT_HIDE_BELOW, 'memlens.hideFiguresBelow');
  if (v === undefined || v === null || v === '') return fallback;
  try {
    if (typeof v === 'string') return parseThreshold(v, 'memlens.hideFiguresBelow');
  } catch (e) {
    if (!isMemlensError(e)) throw e;
    problems.push(e.message);
    return fallback;
  }
  problems.push(`memlens.hideFiguresBelow: expected a share of the peak (0.1%), a size (1MiB) or 0, got ${JSON.stringify(v)}`);
  return fallback;
}

/**
 * `memlens.dims`: sizes by dim name or by `input:axis`, each a whole number (0 allowed: an empty
 * axis); bad entries are left out with one problem line each.
 */
function readDims(v: unknown, problems: string[]): Record<string, number> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    problems.push(`memlens.dims: expected an object such as {"sequence": 512, "input:0": 1}, got ${JSON.stringify(v)}`);
    return {};
  }
  const dims: Record<string, number> = {};
  for (const [name, size] of Object.entries(v as Record<string, unknown>)) {
    if (typeof size === 'number' && Number.isInteger(size) && size >= 0) dims[name] = size;
    else problems.push(`memlens.dims.${name}: expected a whole number, got ${JSON.stringify(size)}`);
  }
  return dims;
}

/**
 * `memlens.branches`: the branch each named If runs, `then` or `else` (as the CLI's --branch);
 * bad entries are left out with one problem line each.
 */
function readBranches(v: unknown, problems: string[]): { branches?: Record<string, IfBranch> } {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    problems.push(`memlens.branches: expected an object such as {"If_32": "else"}, got ${JSON.stringify(v)}`);
    return {};
  }
  const branches = Object.create(null) as Record<string, IfBranch>;
  for (const [node, word] of Object.entries(v as Record<string, unknown>)) {
    if (word === 'then' || word === 'else') branches[node] = `${word}_branch`;
    else problems.push(`memlens.branches.${node}: expected "then" or "else", got ${JSON.stringify(word)}`);
  }
  return Object.keys(branches).length > 0 ? { branches } : {};
}

/**
 * `configured` names the keys the user set (the rest are defaults), so that dims bound from a
 * default batch or sequence length are reported; without it every value counts as chosen.
 */
/** memlens.profileOnSave: on unless set to false (anything but `true` turns it off). */
export function readProfileOnSave(raw: unknown): boolean {
  return raw === undefined ? true : raw === true;
}

export function readSettings(raw: Readonly<Record<string, unknown>>, configured?: ReadonlySet<string>): ExtensionSettings {
  const problems: string[] = [];
  const pick = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const v = raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
    problems.push(`memlens.${key}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
    return fallback;
  };
  const positiveInt = (key: string, fallback: number): number => {
    const v = raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
    problems.push(`memlens.${key}: expected a whole number of at least 1, got ${JSON.stringify(v)}`);
    return fallback;
  };
  const text = (key: string): string => (typeof raw[key] === 'string' ? raw[key] : '');
  return {
    analysis: {
      mode: pick('mode', MODES, DEFAULT_SETTINGS.mode),
      batch: positiveInt('batch', DEFAULT_SETTINGS.batch),
      seq: positiveInt('sequenceLength', DEFAULT_SETTINGS.seq),
      ...readPast(raw.pastSequenceLength, problems),
      dtype: pick('dtype', PRECISIONS, DEFAULT_SETTINGS.dtype),
      optimizer: pick('optimizer', OPTIMIZERS, DEFAULT_SETTINGS.optimizer),
      dims: readDims(raw.dims, problems),
      ...readBranches(raw.branches, problems),
      // The training step's settings, named as the CLI's --device, --step and --zero-grad.
      device: pick('device', DEVICES, 'cuda'),
      step: pick('step', TRAIN_STEPS, 'steady'),
      zeroGrad: pick('zeroGrad', ZERO_GRADS, 'set-to-none'),
      ...(configured ? { explicit: [...(configured.has('batch') ? ['batch' as const] : []), ...(configured.has('sequenceLength') ? ['seq' as const] : [])] } : {}),
    },
    executionProvider: pick('executionProvider', EXECUTION_PROVIDERS, 'auto'),
    budget: text('budget'),
    inlineDetail: pick('inlineDetail', INLINE_DETAILS, 'compact'),
    hideBelow: readHideBelow(raw.hideFiguresBelow, problems),
    profileOnSave: readProfileOnSave(raw.profileOnSave),
    pythonPath: text('pythonPath'),
    timeoutMs: positiveInt('timeoutSeconds', 120) * 1000,
    problems,
  };
}

export function withOverride(base: AnalysisSettings, override: SettingsOverride | undefined): AnalysisSettings {
  if (!override) return base;
  // A batch or sequence length chosen in "Profile with Settings" is a value the user gave.
  const explicit = base.explicit && [...new Set([...base.explicit, ...(override.batch !== undefined ? ['batch' as const] : []), ...(override.seq !== undefined ? ['seq' as const] : [])])];
  return { ...base, ...override, dims: { ...base.dims }, ...(explicit ? { explicit } : {}) };
}
