// The host's guard on what a webview sends: every request is checked field by field before it is
// used (a webview is a page that renders data from model files; nothing it sends is trusted).
// Settings are checked against the manifest's schema, the one the Settings UI enforces; a source
// line may be opened only when the shown profile references its file.
import { isTorchMeasured } from '../engine/measured-torch';
import * as path from 'node:path';
import type { Profile } from '../engine/profile';
import type { PanelSettings, RequestMessage, RequestMethod, SettingField } from '../../webview/protocol';
import { REQUEST_METHODS } from '../../webview/protocol';
import type { SettingSchema } from './setting-controls';
import { sameFile } from '../../language/same-file';

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/** A request that failed its check: answered with the reason when it has an id and a method. */
export interface Refused {
  ok: false;
  id: number | null;
  method: RequestMethod | null;
  reason: string;
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value as it may appear in one line of a message: short, never the whole payload. */
export function shown(v: unknown): string {
  let text: string;
  try {
    text = typeof v === 'string' ? JSON.stringify(v) : typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v);
  } catch {
    text = Object.prototype.toString.call(v);
  }
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Exactly these own keys; `__proto__`, `constructor` and any other extra key is refused. */
function onlyKeys(where: string, o: Json, keys: readonly string[]): string | null {
  for (const k of Object.keys(o)) if (!keys.includes(k)) return `${where}: unexpected field ${shown(k)}`;
  for (const k of keys) if (!Object.prototype.hasOwnProperty.call(o, k)) return `${where}: missing field ${shown(k)}`;
  return null;
}

function checkField(s: SettingSchema, v: unknown): string | null {
  if (s.input.kind === 'enum') {
    const allowed = s.input.options.map((o) => o.value);
    return typeof v === 'string' && allowed.includes(v) ? null : `${s.key}: expected one of ${allowed.join(', ')}, got ${shown(v)}`;
  }
  const { min, max } = s.input;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max
    ? null
    : `${s.key}: expected a whole number from ${min} to ${max}, got ${shown(v)}`;
}

/** Panel settings checked against the settings' own schema (value lists and ranges). */
export function checkSettings(value: unknown, schemas: readonly SettingSchema[]): Checked<PanelSettings> {
  if (!isRecord(value)) return { ok: false, reason: `settings: expected an object, got ${shown(value)}` };
  const fields = schemas.map((s) => s.field);
  const bad = onlyKeys('settings', value, fields);
  if (bad) return { ok: false, reason: bad };
  for (const s of schemas) {
    const problem = checkField(s, value[s.field]);
    if (problem) return { ok: false, reason: problem };
  }
  const pick = (f: SettingField) => value[f];
  return {
    ok: true,
    value: {
      mode: pick('mode'), batch: pick('batch'), seq: pick('seq'), dtype: pick('dtype'), optimizer: pick('optimizer'),
    } as PanelSettings,
  };
}

/** Longest path accepted in a reveal; longer ones are not paths the profile wrote. */
const MAX_PATH = 4096;
const MAX_LINE = 2 ** 31 - 1;

function checkSource(value: unknown): Checked<{ file: string; line: number }> {
  if (!isRecord(value)) return { ok: false, reason: `reveal: expected a source {file, line}, got ${shown(value)}` };
  const bad = onlyKeys('reveal source', value, ['file', 'line']);
  if (bad) return { ok: false, reason: bad };
  const { file, line } = value;
  if (typeof file !== 'string' || file.length === 0 || file.length > MAX_PATH || file.includes('\0') || !path.isAbsolute(file)) {
    return { ok: false, reason: `reveal: the file must be an absolute path, got ${shown(file)}` };
  }
  if (typeof line !== 'number' || !Number.isSafeInteger(line) || line < 1 || line > MAX_LINE) {
    return { ok: false, reason: `reveal: the line must be a whole number of at least 1, got ${shown(line)}` };
  }
  return { ok: true, value: { file, line } };
}

function checkParams(method: RequestMethod, params: Json, schemas: readonly SettingSchema[]): Checked<RequestMessage['params']> {
  switch (method) {
    case 'reveal': {
      const bad = onlyKeys('reveal', params, ['source']);
      if (bad) return { ok: false, reason: bad };
      const source = checkSource(params.source);
      return source.ok ? { ok: true, value: { source: source.value } } : source;
    }
    case 'applySettings': {
      const bad = onlyKeys('applySettings', params, ['settings']);
      if (bad) return { ok: false, reason: bad };
      const settings = checkSettings(params.settings, schemas);
      return settings.ok ? { ok: true, value: { settings: settings.value } } : settings;
    }
    case 'ready':
    case 'measure':
    case 'hideComparison': {
      const bad = onlyKeys(method, params, []);
      return bad ? { ok: false, reason: bad } : { ok: true, value: {} };
    }
  }
}

/** A message from the webview as a typed request, or why it is refused. */
export function parseRequest(value: unknown, schemas: readonly SettingSchema[]): { ok: true; request: RequestMessage } | Refused {
  if (!isRecord(value)) return { ok: false, id: null, method: null, reason: `not a request: ${shown(value)}` };
  const id = Number.isSafeInteger(value.id) && (value.id as number) >= 0 ? (value.id as number) : null;
  const method = REQUEST_METHODS.find((m) => m === value.method) ?? null;
  const refuse = (reason: string): Refused => ({ ok: false, id, method, reason });
  if (value.kind !== 'request') return refuse(`not a request: kind ${shown(value.kind)}`);
  if (id === null) return refuse(`request without a valid id: ${shown(value.id)}`);
  if (method === null) return refuse(`unknown request ${shown(value.method)}`);
  const bad = onlyKeys(method, value, ['kind', 'id', 'method', 'params']);
  if (bad) return refuse(bad);
  if (!isRecord(value.params)) return refuse(`${method}: params must be an object, got ${shown(value.params)}`);
  const params = checkParams(method, value.params, schemas);
  if (!params.ok) return refuse(params.reason);
  return { ok: true, request: { kind: 'request', id, method, params: params.value } as RequestMessage };
}

/** Every source file a profile names: its lines, its timeline steps, its peak, its measured nodes. */
export function referencedFiles(profile: Profile): string[] {
  const files = new Set<string>();
  for (const l of profile.lines) if (l.file !== null) files.add(l.file);
  for (const p of profile.timeline) if (p.source) files.add(p.source.file);
  if (profile.peak.source) files.add(profile.peak.source.file);
  const m = profile.measured;
  if (m && isTorchMeasured(m)) for (const l of m.atPeak.lines) files.add(l.file);
  else for (const n of m?.perNode ?? []) if (n.source) files.add(n.source.file);
  return [...files];
}

/** A reveal target is allowed only when the shown profile references its file. */
export function checkRevealTarget(source: { file: string; line: number }, profile: Profile | undefined): Checked<{ file: string; line: number }> {
  if (!profile) return { ok: false, reason: 'no profile is shown, so no source line can be opened' };
  const file = referencedFiles(profile).find((f) => path.isAbsolute(f) && sameFile(f, source.file));
  if (!file) return { ok: false, reason: `${path.basename(source.file)} is not a file of the shown profile; only its own source lines open` };
  return { ok: true, value: { file, line: source.line } };
}
