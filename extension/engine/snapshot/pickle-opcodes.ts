// Pickle opcodes (CPython's Lib/pickletools.py names them), split into those the reader executes,
// all of which only build plain data, and those it refuses with the reason. A memory snapshot
// (torch.cuda.memory._dump_snapshot: pickle.dump of dicts, lists, str, int, float, bool, None and
// tuples) needs none of the refused ones.

export const OP = {
  MARK: 0x28, STOP: 0x2e, POP: 0x30, POP_MARK: 0x31,
  NONE: 0x4e, NEWTRUE: 0x88, NEWFALSE: 0x89,
  BININT: 0x4a, BININT1: 0x4b, BININT2: 0x4d, LONG1: 0x8a, LONG4: 0x8b, BINFLOAT: 0x47,
  BINUNICODE: 0x58, SHORT_BINUNICODE: 0x8c, BINUNICODE8: 0x8d,
  BINBYTES: 0x42, SHORT_BINBYTES: 0x43, BINBYTES8: 0x8e, BYTEARRAY8: 0x96,
  EMPTY_LIST: 0x5d, APPEND: 0x61, APPENDS: 0x65,
  EMPTY_DICT: 0x7d, SETITEM: 0x73, SETITEMS: 0x75,
  EMPTY_TUPLE: 0x29, TUPLE: 0x74, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87,
  BINPUT: 0x71, LONG_BINPUT: 0x72, MEMOIZE: 0x94, BINGET: 0x68, LONG_BINGET: 0x6a,
  PROTO: 0x80, FRAME: 0x95,
} as const;

export type OpName = keyof typeof OP;

const NAMES = new Map<number, string>(Object.entries(OP).map(([name, code]) => [code, name]));

const CALLS = 'it imports or calls Python code, and a memory snapshot holds only plain data';
/** Opcodes a pickle may contain that this reader never executes, with the reason. */
const REFUSED = new Map<number, [string, string]>([
  [0x63, ['GLOBAL', CALLS]],
  [0x93, ['STACK_GLOBAL', CALLS]],
  [0x52, ['REDUCE', CALLS]],
  [0x62, ['BUILD', CALLS]],
  [0x69, ['INST', CALLS]],
  [0x6f, ['OBJ', CALLS]],
  [0x81, ['NEWOBJ', CALLS]],
  [0x92, ['NEWOBJ_EX', CALLS]],
  [0x82, ['EXT1', CALLS]],
  [0x83, ['EXT2', CALLS]],
  [0x84, ['EXT4', CALLS]],
  [0x50, ['PERSID', 'it refers to an object outside the pickle, which a memory snapshot never does']],
  [0x51, ['BINPERSID', 'it refers to an object outside the pickle, which a memory snapshot never does']],
  [0x97, ['NEXT_BUFFER', 'it refers to an out-of-band buffer, which a memory snapshot never does']],
  [0x98, ['READONLY_BUFFER', 'it refers to an out-of-band buffer, which a memory snapshot never does']],
  [0x8f, ['EMPTY_SET', 'a memory snapshot holds no sets']],
  [0x90, ['ADDITEMS', 'a memory snapshot holds no sets']],
  [0x91, ['FROZENSET', 'a memory snapshot holds no sets']],
  // Text opcodes of protocols 0 and 1, which protocols 2 to 5 never write.
  [0x49, ['INT', 'it belongs to protocols 0 and 1, which this reader does not accept']],
  [0x4c, ['LONG', 'it belongs to protocols 0 and 1, which this reader does not accept']],
  [0x46, ['FLOAT', 'it belongs to protocols 0 and 1, which this reader does not accept']],
  [0x53, ['STRING', 'it belongs to protocols 0 and 1, which this reader does not accept']],
  [0x54, ['BINSTRING', 'it belongs to protocols 0 and 1, which this reader does not accept']],
  [0x55, ['SHORT_BINSTRING', 'it belongs to protocols 0 and 1, which this reader does not accept']],
  [0x56, ['UNICODE', 'it belongs to protocols 0 and 1, which this reader does not accept']],
  [0x70, ['PUT', 'it belongs to protocols 0 and 1, which this reader does not accept']],
  [0x67, ['GET', 'it belongs to protocols 0 and 1, which this reader does not accept']],
  [0x64, ['DICT', 'it belongs to protocols 0 and 1, which this reader does not accept']],
  [0x6c, ['LIST', 'it belongs to protocols 0 and 1, which this reader does not accept']],
  [0x32, ['DUP', 'no pickler writes it']],
]);

export function opcodeName(code: number): string {
  return NAMES.get(code) ?? REFUSED.get(code)?.[0] ?? 'unknown';
}

/** Why an opcode is refused, or undefined when the reader executes it or does not know it. */
export function refusal(code: number): { name: string; reason: string } | undefined {
  const r = REFUSED.get(code);
  return r ? { name: r[0], reason: r[1] } : undefined;
}

export function hex(code: number): string {
  return `0x${code.toString(16).padStart(2, '0')}`;
}
