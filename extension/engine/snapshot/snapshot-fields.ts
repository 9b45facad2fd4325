// Typed reads from the plain data of a snapshot pickle, each failing with one line that names
// the path of the field (`segments[2].blocks[5].size`) and what was found there.
import { MemlensError } from '../errors';
import { pickleTypeName, PickleTuple, type PickleDict, type PickleList, type PickleValue } from './pickle-value';

export function fail(path: string, message: string): never {
  throw new MemlensError(`snapshot: ${path}: ${message}`);
}

export function asDict(v: PickleValue, path: string): PickleDict {
  if (!(v instanceof Map)) fail(path, `expected a dict, got ${pickleTypeName(v)}`);
  return v;
}

export function asList(v: PickleValue, path: string): PickleList {
  if (!Array.isArray(v)) fail(path, `expected a list, got ${pickleTypeName(v)}`);
  return v;
}

export function asInt(v: PickleValue, path: string): number {
  if (typeof v === 'bigint') fail(path, `integer ${v} is outside the range MemLens reads exactly (±2^53)`);
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(path, `expected an int, got ${pickleTypeName(v)}`);
  return v;
}

export function asStr(v: PickleValue, path: string): string {
  if (typeof v !== 'string') fail(path, `expected a str, got ${pickleTypeName(v)}`);
  return v;
}

export function asBool(v: PickleValue, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, `expected a bool, got ${pickleTypeName(v)}`);
  return v;
}

export function asNumber(v: PickleValue, path: string): number {
  if (typeof v !== 'number') fail(path, `expected a float, got ${pickleTypeName(v)}`);
  return v;
}

/** A field that every snapshot format since 2023 writes. */
export function req<T>(d: PickleDict, key: string, path: string, as: (v: PickleValue, p: string) => T): T {
  if (!d.has(key)) fail(`${path}.${key}`, 'missing');
  return as(d.get(key) as PickleValue, `${path}.${key}`);
}

/** A field that some formats leave out (or write as None); null when absent. */
export function opt<T>(d: PickleDict, key: string, path: string, as: (v: PickleValue, p: string) => T): T | null {
  const v = d.get(key);
  return v === undefined || v === null ? null : as(v, `${path}.${key}`);
}

export function asSize(v: PickleValue, path: string): number {
  const n = asInt(v, path);
  if (n < 0) fail(path, `expected a size >= 0, got ${n}`);
  return n;
}

export function asIntPair(v: PickleValue, path: string): readonly [number, number] {
  const items = v instanceof PickleTuple ? v.items : Array.isArray(v) ? v : fail(path, `expected a pair of ints, got ${pickleTypeName(v)}`);
  if (items.length !== 2) fail(path, `expected a pair of ints, got ${items.length} values`);
  return [asInt(items[0], `${path}[0]`), asInt(items[1], `${path}[1]`)];
}
