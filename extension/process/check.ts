// Checks for data that crosses a process boundary (IPC messages, JSON result files): a child
// runs code MemLens does not control, so what it sends is `unknown` until a check has read it.
// A check returns the value typed or throws a CheckError naming the first field that is wrong;
// the supervisor turns that into one line ("sent an invalid reply: result.ep is ...").

export class CheckError extends Error {
  constructor(readonly at: string, readonly expected: string, got: unknown) {
    super(`${at || 'the reply'} is ${describe(got)}, expected ${expected}`);
    this.name = 'CheckError';
  }
}

/** Reads `value` (found at path `at`) as a T, or throws a CheckError. */
export type Check<T> = (value: unknown, at: string) => T;

export type Checked<C> = C extends Check<infer T> ? T : never;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length > 40 ? 'a long string' : JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : `${v}`;
  if (typeof v === 'object') return 'an object';
  return typeof v;
}

const join = (at: string, key: string | number) => (typeof key === 'number' ? `${at}[${key}]` : at ? `${at}.${key}` : key);

export const str: Check<string> = (v, at) => {
  if (typeof v !== 'string') throw new CheckError(at, 'a string', v);
  return v;
};

export const bool: Check<boolean> = (v, at) => {
  if (typeof v !== 'boolean') throw new CheckError(at, 'true or false', v);
  return v;
};

/** A finite number: NaN and infinities never pass as figures. */
export const num: Check<number> = (v, at) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new CheckError(at, 'a finite number', v);
  return v;
};

export const count: Check<number> = (v, at) => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new CheckError(at, 'a whole number >= 0', v);
  return v;
};

export const bytes: Check<Uint8Array> = (v, at) => {
  if (!(v instanceof Uint8Array)) throw new CheckError(at, 'bytes', v);
  return v;
};

export function oneOf<const T extends readonly (string | number | boolean | null)[]>(values: T): Check<T[number]> {
  return (v, at) => {
    if (!values.includes(v as T[number])) throw new CheckError(at, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`, v);
    return v as T[number];
  };
}

export function nullable<T>(check: Check<T>): Check<T | null> {
  return (v, at) => (v === null ? null : check(v, at));
}

export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (v, at) => (v === undefined ? undefined : check(v, at));
}

export function arrayOf<T>(check: Check<T>): Check<T[]> {
  return (v, at) => {
    if (!Array.isArray(v)) throw new CheckError(at, 'an array', v);
    return v.map((x, i) => check(x, join(at, i)));
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** A string-keyed map of T (own keys only, read into a null-prototype object). */
export function recordOf<T>(check: Check<T>): Check<Record<string, T>> {
  return (v, at) => {
    if (!isRecord(v)) throw new CheckError(at, 'an object', v);
    const out = Object.create(null) as Record<string, T>;
    for (const key of Object.keys(v)) out[key] = check(v[key], join(at, key));
    return out;
  };
}

/** Any JSON-like object, kept as it is (configurations passed through, never read as figures). */
export const anyObject: Check<Record<string, unknown>> = (v, at) => {
  if (!isRecord(v)) throw new CheckError(at, 'an object', v);
  return v;
};

type Shape = Record<string, Check<unknown>>;
type Optionals<S extends Shape> = { [K in keyof S]: undefined extends Checked<S[K]> ? K : never }[keyof S];
export type ShapeOf<S extends Shape> =
  { [K in Exclude<keyof S, Optionals<S>>]: Checked<S[K]> } & { [K in Optionals<S>]?: Checked<S[K]> };

/** An object with these fields (others are dropped); a field whose check allows undefined may be absent. */
export function object<S extends Shape>(shape: S): Check<ShapeOf<S>> {
  return (v, at) => {
    if (!isRecord(v)) throw new CheckError(at, 'an object', v);
    const out: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(shape)) {
      const value = check(v[key], join(at, key));
      if (value !== undefined) out[key] = value;
    }
    return out as ShapeOf<S>;
  };
}

/** A union told apart by one literal field (`type`, `ok`), each variant with its own check. */
export function tagged<K extends string, V extends Record<string, Check<unknown>>>(
  key: K,
  variants: V,
): Check<Checked<V[keyof V]>> {
  return (v, at) => {
    if (!isRecord(v)) throw new CheckError(at, 'an object', v);
    const tag = String(v[key]);
    if (!Object.prototype.hasOwnProperty.call(variants, tag)) {
      throw new CheckError(join(at, key), `one of ${Object.keys(variants).join(', ')}`, v[key]);
    }
    return variants[tag](v, at) as Checked<V[keyof V]>;
  };
}

/** The variant check of a `tagged` union: the object's fields, with the tag fixed to its value. */
export function variant<K extends string, const T extends string | boolean, S extends Shape>(
  key: K,
  value: T,
  shape: S,
): Check<{ [P in K]: T } & ShapeOf<S>> {
  const inner = object(shape);
  return (v, at) => ({ ...inner(v, at), [key]: value }) as { [P in K]: T } & ShapeOf<S>;
}

/** `{ ok: true, value }` or `{ ok: false, reason }` instead of a throw. */
export function runCheck<T>(check: Check<T>, value: unknown): { ok: true; value: T } | { ok: false; reason: string } {
  try {
    return { ok: true, value: check(value, '') };
  } catch (e) {
    if (e instanceof CheckError) return { ok: false, reason: e.message };
    throw e;
  }
}
