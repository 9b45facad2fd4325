// An opcode-level pickle reader that executes nothing. It accepts protocols 2 to 5 and builds only
// plain data (None, bool, int, float, str, bytes, list, tuple, dict); any opcode that would import,
// call or construct Python objects is refused with its offset and name. Limits on input size, memo
// size, stack size, nesting depth and integer length bound the work a hostile file can cause.
//
// Memo references can also build cycles, which no snapshot has and which would make any later walk
// endless. Two rules exclude them, and CPython's pickler never breaks either for data without
// cycles (it fills each container before placing it in its parent): a container already placed
// inside another is never filled again, and no container is placed inside itself. Under them the
// last edge added to any would-be cycle is refused, and each container's nesting height is final
// once it is placed, so depth is exact as it is counted.
import { MemlensError } from '../errors';
import { hex, OP, refusal } from './pickle-opcodes';
import { isPickleKey, pickleTypeName, PickleTuple, type PickleValue } from './pickle-value';

export interface PickleLimits {
  /** Largest input accepted, in bytes. */
  readonly maxBytes: number;
  /** Deepest nesting of lists, tuples and dicts. */
  readonly maxDepth: number;
  /** Most memo entries, and the largest memo index. */
  readonly maxMemo: number;
  /** Most values and marks on the stack at once. */
  readonly maxStack: number;
  /** Longest LONG1/LONG4 integer, in bytes. */
  readonly maxIntBytes: number;
}

export const DEFAULT_PICKLE_LIMITS: PickleLimits = {
  maxBytes: 2 ** 31,
  maxDepth: 64,
  maxMemo: 2 ** 25,
  maxStack: 2 ** 20,
  maxIntBytes: 1024,
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads one pickle from the start of `data`; bytes after its STOP are ignored, as `pickle.load` does. */
export function readPickle(data: Uint8Array, limits: Partial<PickleLimits> = {}): PickleValue {
  const lim = { ...DEFAULT_PICKLE_LIMITS, ...limits };
  if (data.length > lim.maxBytes) throw new MemlensError(`pickle: ${data.length} bytes is over the limit of ${lim.maxBytes}`);
  return new PickleReader(data, lim).run();
}

class PickleReader {
  private pos = 0;
  private opStart = 0;
  private frameEnd = -1;
  private readonly view: DataView;
  private readonly stack: PickleValue[] = [];
  private readonly marks: number[] = [];
  /** Indexed by memo key; CPython's memo is a dict, so MEMOIZE uses the entry count, kept apart. */
  private readonly memo: (PickleValue | undefined)[] = [];
  private memoCount = 0;
  /** Nesting height of containers built so far (absent: 1); negative once placed inside another container. */
  private readonly heights = new Map<object, number>();

  constructor(private readonly data: Uint8Array, private readonly lim: PickleLimits) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  run(): PickleValue {
    this.startProtocol();
    for (;;) {
      this.opStart = this.pos;
      const op = this.u8('an opcode');
      if (op === OP.STOP) return this.stop();
      this.step(op);
      if (this.stack.length + this.marks.length > this.lim.maxStack) this.fail(`more than ${this.lim.maxStack} values on the stack`);
    }
  }

  fail(message: string): never {
    throw new MemlensError(`pickle offset ${this.opStart}: ${message}`);
  }

  private startProtocol(): void {
    if (this.data.length < 2 || this.data[0] !== OP.PROTO) {
      const first = this.data.length ? `first byte ${hex(this.data[0])}` : 'empty input';
      this.fail(`not a pickle of protocol 2 to 5 (${first}; protocols 2 to 5 start with PROTO ${hex(OP.PROTO)})`);
    }
    this.pos = 1;
    const version = this.u8('the PROTO version');
    if (version < 2 || version > 5) this.fail(`protocol ${version} is not supported (2 to 5 are)`);
  }

  private stop(): PickleValue {
    if (this.marks.length) this.fail('STOP inside an unclosed MARK');
    if (this.stack.length !== 1) this.fail(`STOP with ${this.stack.length} values on the stack (expected 1)`);
    return this.stack[0];
  }

  private step(op: number): void {
    const s = this.stack;
    switch (op) {
      case OP.NONE: s.push(null); return;
      case OP.NEWTRUE: s.push(true); return;
      case OP.NEWFALSE: s.push(false); return;
      case OP.BININT1: s.push(this.u8('BININT1')); return;
      case OP.BININT2: s.push(this.uint(2, 'BININT2')); return;
      case OP.BININT: s.push(this.view.getInt32(this.take(4, 'BININT'), true)); return;
      case OP.LONG1: s.push(this.long(this.u8('LONG1 length'))); return;
      case OP.LONG4: s.push(this.long(this.view.getInt32(this.take(4, 'LONG4 length'), true))); return;
      case OP.BINFLOAT: s.push(this.view.getFloat64(this.take(8, 'BINFLOAT'), false)); return;
      case OP.SHORT_BINUNICODE: s.push(this.text(this.u8('SHORT_BINUNICODE length'), 'SHORT_BINUNICODE')); return;
      case OP.BINUNICODE: s.push(this.text(this.uint(4, 'BINUNICODE length'), 'BINUNICODE')); return;
      case OP.BINUNICODE8: s.push(this.text(this.uint(8, 'BINUNICODE8 length'), 'BINUNICODE8')); return;
      case OP.SHORT_BINBYTES: s.push(this.bytes(this.u8('SHORT_BINBYTES length'), 'SHORT_BINBYTES')); return;
      case OP.BINBYTES: s.push(this.bytes(this.uint(4, 'BINBYTES length'), 'BINBYTES')); return;
      case OP.BINBYTES8: s.push(this.bytes(this.uint(8, 'BINBYTES8 length'), 'BINBYTES8')); return;
      case OP.BYTEARRAY8: s.push(this.bytes(this.uint(8, 'BYTEARRAY8 length'), 'BYTEARRAY8')); return;
      case OP.EMPTY_LIST: s.push([]); return;
      case OP.EMPTY_DICT: s.push(new Map()); return;
      case OP.EMPTY_TUPLE: s.push(new PickleTuple([])); return;
      case OP.TUPLE: s.push(this.tuple(this.popToMark())); return;
      case OP.TUPLE1: s.push(this.tuple(this.popN(1, 'TUPLE1'))); return;
      case OP.TUPLE2: s.push(this.tuple(this.popN(2, 'TUPLE2'))); return;
      case OP.TUPLE3: s.push(this.tuple(this.popN(3, 'TUPLE3'))); return;
      case OP.APPEND: this.append(s.length - 1, 'APPEND'); return;
      case OP.APPENDS: this.append(this.mark(), 'APPENDS'); return;
      case OP.SETITEM: this.setItems(s.length - 2, 'SETITEM'); return;
      case OP.SETITEMS: this.setItems(this.mark(), 'SETITEMS'); return;
      case OP.MARK: this.marks.push(s.length); return;
      case OP.POP: this.popOne(); return;
      case OP.POP_MARK: s.length = this.mark(); return;
      case OP.BINPUT: this.memoize(this.u8('BINPUT index')); return;
      case OP.LONG_BINPUT: this.memoize(this.uint(4, 'LONG_BINPUT index')); return;
      case OP.MEMOIZE: this.memoize(this.memoCount); return;
      case OP.BINGET: this.recall(this.u8('BINGET index')); return;
      case OP.LONG_BINGET: this.recall(this.uint(4, 'LONG_BINGET index')); return;
      case OP.FRAME: this.frame(this.uint(8, 'FRAME length')); return;
      case OP.PROTO: return this.fail('PROTO after the start of the pickle');
      default: this.refuse(op);
    }
  }

  private refuse(op: number): never {
    const refused = refusal(op);
    if (refused) this.fail(`opcode ${refused.name} (${hex(op)}) is refused: ${refused.reason}`);
    this.fail(`unknown opcode ${hex(op)}`);
  }

  // ---- reading bytes -------------------------------------------------------------------------

  /** Claims `n` bytes at the current position and returns where they start. */
  private take(n: number, what: string): number {
    const start = this.pos, remain = this.data.length - start;
    if (n > remain) this.fail(`truncated: ${what} needs ${n} bytes, ${remain} remain`);
    if (this.frameEnd >= 0) {
      if (start >= this.frameEnd) this.frameEnd = -1;
      else if (start + n > this.frameEnd) this.fail(`${what} runs past the end of its FRAME (offset ${this.frameEnd})`);
    }
    this.pos = start + n;
    return start;
  }

  private u8(what: string): number {
    return this.data[this.take(1, what)];
  }

  /** Unsigned little-endian integer of 2, 4 or 8 bytes; an 8-byte one above 2^53 can only be a length past the end. */
  private uint(n: 2 | 4 | 8, what: string): number {
    const at = this.take(n, what);
    if (n === 2) return this.view.getUint16(at, true);
    if (n === 4) return this.view.getUint32(at, true);
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`truncated: ${what} is ${v}, ${this.data.length - this.pos} bytes remain`);
    return Number(v);
  }

  /** LONG1/LONG4 payload: little-endian two's complement; up to 6 bytes exactly in a number. */
  private long(n: number): number | bigint {
    if (n < 0) this.fail(`LONG4 with negative length ${n}`);
    if (n > this.lim.maxIntBytes) this.fail(`integer of ${n} bytes is over the limit of ${this.lim.maxIntBytes}`);
    const at = this.take(n, 'LONG payload'), d = this.data;
    if (n <= 6) {
      let v = 0;
      for (let i = n - 1; i >= 0; i--) v = v * 256 + d[at + i];
      return n > 0 && d[at + n - 1] & 0x80 ? v - 2 ** (8 * n) : v;
    }
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(d[at + i]);
    if (d[at + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  private text(n: number, what: string): string {
    const at = this.take(n, `${what} string`);
    if (n <= 64) {
      let s = '';
      for (let i = at; i < at + n && this.data[i] < 0x80; i++) s += String.fromCharCode(this.data[i]);
      if (s.length === n) return s;
    }
    try {
      return utf8.decode(this.data.subarray(at, at + n));
    } catch {
      this.fail(`${what} string is not valid UTF-8`);
    }
  }

  private bytes(n: number, what: string): Uint8Array {
    const at = this.take(n, `${what} data`);
    return this.data.slice(at, at + n);
  }

  private frame(n: number): void {
    if (this.frameEnd >= 0 && this.opStart < this.frameEnd) this.fail('FRAME before the end of the current frame');
    const remain = this.data.length - this.pos;
    if (n > remain) this.fail(`truncated: FRAME declares ${n} bytes, ${remain} remain`);
    this.frameEnd = this.pos + n;
  }

  // ---- the stack -----------------------------------------------------------------------------

  private floor(): number {
    return this.marks.length ? this.marks[this.marks.length - 1] : 0;
  }

  /** Pops the innermost MARK and returns the stack index it recorded. */
  private mark(): number {
    const mark = this.marks.pop();
    if (mark === undefined) this.fail('no MARK to pop to');
    return mark;
  }

  private popToMark(): PickleValue[] {
    return this.stack.splice(this.mark());
  }

  private popN(n: number, what: string): PickleValue[] {
    if (this.stack.length - this.floor() < n) this.fail(`${what} needs ${n} value(s) on the stack`);
    return this.stack.splice(this.stack.length - n, n);
  }

  /** POP drops the top value, or the innermost MARK when nothing lies above it (as CPython does). */
  private popOne(): void {
    if (this.stack.length > this.floor()) this.stack.pop();
    else if (this.marks.length) this.marks.pop();
    else this.fail('POP on an empty stack');
  }

  /** The container just below stack index `from`, which must lie within the current mark. */
  private target(from: number, what: string): PickleValue {
    if (from - 1 < this.floor() || from > this.stack.length) this.fail(`${what} needs a container and values on the stack`);
    return this.stack[from - 1];
  }

  /** Appends stack[from..] to the list below them. */
  private append(from: number, what: string): void {
    const s = this.stack, list = this.target(from, what);
    if (!Array.isArray(list)) this.fail(`${what} to a ${pickleTypeName(list)} (expected a list)`);
    let h = this.openHeight(list, what);
    for (let i = from; i < s.length; i++) {
      h = this.place(s[i], list, h);
      list.push(s[i]);
    }
    this.heights.set(list, h);
    s.length = from;
  }

  private tuple(items: PickleValue[]): PickleTuple {
    const t = new PickleTuple(items);
    let h = 1;
    for (const item of items) h = this.place(item, t, h);
    this.heights.set(t, h);
    return t;
  }

  /** The height of a container about to be filled, refusing one already placed inside another. */
  private openHeight(c: object, what: string): number {
    const h = this.heights.get(c) ?? 1;
    if (h < 0) this.fail(`${what} into a container already placed inside another: a recursive structure, which a memory snapshot never is`);
    return h;
  }

  /** Records that `item` goes inside `parent` (of height `h` so far) and returns the parent's new height. */
  private place(item: PickleValue, parent: object, h: number): number {
    if (item === null || typeof item !== 'object' || item instanceof Uint8Array) return h;
    if (item === parent) this.fail('a container placed inside itself: a recursive structure, which a memory snapshot never is');
    const ih = Math.abs(this.heights.get(item) ?? 1);
    this.heights.set(item, -ih);
    if (ih + 1 > this.lim.maxDepth) this.fail(`nesting deeper than ${this.lim.maxDepth} levels`);
    return Math.max(h, ih + 1);
  }

  /** Sets the key/value pairs stack[from..] in the dict below them. */
  private setItems(from: number, what: string): void {
    const s = this.stack, dict = this.target(from, what);
    if (!(dict instanceof Map)) this.fail(`${what} on a ${pickleTypeName(dict)} (expected a dict)`);
    if ((s.length - from) % 2) this.fail(`${what} with an odd number of values (${s.length - from})`);
    let h = this.openHeight(dict, what);
    for (let i = from; i < s.length; i += 2) {
      const key = s[i];
      if (!isPickleKey(key)) this.fail(`dict key of type ${pickleTypeName(key)} (a memory snapshot's keys are str or int)`);
      h = this.place(s[i + 1], dict, h);
      dict.set(key, s[i + 1]);
    }
    this.heights.set(dict, h);
    s.length = from;
  }

  private memoize(index: number): void {
    if (this.stack.length <= this.floor()) this.fail('memo store on an empty stack');
    if (index >= this.lim.maxMemo) this.fail(`memo index ${index} is over the limit of ${this.lim.maxMemo} entries`);
    if (this.memo[index] === undefined) this.memoCount++;
    this.memo[index] = this.stack[this.stack.length - 1];
  }

  private recall(index: number): void {
    const v = this.memo[index];
    if (v === undefined) this.fail(`memo entry ${index} is missing`);
    this.stack.push(v);
  }
}
