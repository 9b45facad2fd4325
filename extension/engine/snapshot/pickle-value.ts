// The plain data a memory snapshot pickle can hold, as the opcode-level reader builds it. Nothing
// here is a Python object: a tuple is its items, a dict its entries, bytes a byte array.

/** Python `int` within 2^53 as a number, larger ones as a bigint; `float` as a number. */
export type PickleScalar = null | boolean | number | bigint | string;

export type PickleValue = PickleScalar | Uint8Array | PickleList | PickleTuple | PickleDict;

/** A Python `list`; mutable while the pickle is read (APPEND), never after. */
export type PickleList = PickleValue[];

export class PickleTuple {
  constructor(readonly items: readonly PickleValue[]) {}
}

/** Python dict keys the reader accepts: the hashable scalars. */
export type PickleKey = PickleScalar;

export type PickleDict = Map<PickleKey, PickleValue>;

export function isPickleDict(v: PickleValue): v is PickleDict {
  return v instanceof Map;
}

export function isPickleKey(v: PickleValue): v is PickleKey {
  return v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string';
}

/** What kind of value this is, in Python's words, for error messages. */
export function pickleTypeName(v: PickleValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof PickleTuple) return 'tuple';
  if (v instanceof Map) return 'dict';
  return 'list';
}
