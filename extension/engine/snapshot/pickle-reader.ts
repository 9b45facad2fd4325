// An opcode-level pickle reader that executes nothing. It accepts protocols 2 to 5 and builds only
// plain data (None, bool, int, float, str, bytes, list, tuple, dict); any opcode that would import,
// call or construct Python objects is refused with its offset and name. Limits on input size,
// nesting depth, memo size, stack size and integer length bound the work a hostile file can cause.
import { MemlensError } from '../errors';
import { hex, OP, refusal } from './pickle-opcodes';
import { checkAcyclic, containerHeight } from './pickle-walk';
import { isPickleKey, pickleTypeName, PickleTuple, type PickleDict, type PickleList, type PickleValue } from './pickle-value';

export interface PickleLimits {
  /** Largest input accepted, in bytes. */
  readonly maxBytes: number;
  /** Deepest nesting of lists, tuples and dicts. */
  readonly maxDepth: number;
  /** Most memo entries. */
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
  const r = new PickleReader(data, lim);
  const value = r.run();
  checkAcyclic(value, lim.maxDepth);
  return value;
}

class PickleReader {
  private pos = 0;
  private opStart = 0;
  private frameEnd = -1;
  private readonly view: DataView;
  private readonly stack: PickleValue[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();
  private readonly heights = new WeakMap<object, number>();

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
    if (this.scalar(op) || this.container(op) || this.control(op)) return;
    const refused = refusal(op);
    if (refused) this.fail(`opcode ${refused.name} (${hex(op)}) is refused: ${refused.reason}`);
    this.fail(`unknown opcode ${hex(op)}`);
  }

  /** Opcodes that push one scalar, string or bytes value. */
  private scalar(op: number): boolean {
    switch (op) {
      case OP.NONE: this.push(null); return true;
      case OP.NEWTRUE: this.push(true); return true;
      case OP.NEWFALSE: this.push(false); return true;
      case OP.BININT1: this.push(this.u8('BININT1')); return true;
      case OP.BININT2: this.push(this.uint(2, 'BININT2')); return true;
      case OP.BININT: this.push(this.view.getInt32(this.take(4, 'BININT'), true)); return true;
      case OP.LONG1: this.push(this.long(this.u8('LONG1 length'))); return true;
      case OP.LONG4: this.push(this.long(this.view.getInt32(this.take(4, 'LONG4 length'), true))); return true;
      case OP.BINFLOAT: this.push(this.view.getFloat64(this.take(8, 'BINFLOAT'), false)); return true;
      case OP.SHORT_BINUNICODE: this.push(this.text(this.u8('SHORT_BINUNICODE length'), 'SHORT_BINUNICODE')); return true;
      case OP.BINUNICODE: this.push(this.text(this.uint(4, 'BINUNICODE length'), 'BINUNICODE')); return true;
      case OP.BINUNICODE8: this.push(this.text(this.uint(8, 'BINUNICODE8 length'), 'BINUNICODE8')); return true;
      case OP.SHORT_BINBYTES: this.push(this.bytes(this.u8('SHORT_BINBYTES length'), 'SHORT_BINBYTES')); return true;
      case OP.BINBYTES: this.push(this.bytes(this.uint(4, 'BINBYTES length'), 'BINBYTES')); return true;
      case OP.BINBYTES8: this.push(this.bytes(this.uint(8, 'BINBYTES8 length'), 'BINBYTES8')); return true;
      case OP.BYTEARRAY8: this.push(this.bytes(this.uint(8, 'BYTEARRAY8 length'), 'BYTEARRAY8')); return true;
      default: return false;
    }
  }

  /** Opcodes that build or fill lists, tuples and dicts. */
  private container(op: number): boolean {
    switch (op) {
      case OP.EMPTY_LIST: this.pushContainer([]); return true;
      case OP.EMPTY_DICT: this.pushContainer(new Map()); return true;
      case OP.EMPTY_TUPLE: this.pushContainer(new PickleTuple([])); return true;
      case OP.TUPLE: this.pushContainer(new PickleTuple(this.popMark())); return true;
      case OP.TUPLE1: this.pushContainer(new PickleTuple(this.popN(1, 'TUPLE1'))); return true;
      case OP.TUPLE2: this.pushContainer(new PickleTuple(this.popN(2, 'TUPLE2'))); return true;
      case OP.TUPLE3: this.pushContainer(new PickleTuple(this.popN(3, 'TUPLE3'))); return true;
      case OP.APPEND: this.append(this.popN(1, 'APPEND'), 'APPEND'); return true;
      case OP.APPENDS: this.append(this.popMark(), 'APPENDS'); return true;
      case OP.SETITEM: this.setItems(this.popN(2, 'SETITEM'), 'SETITEM'); return true;
      case OP.SETITEMS: this.setItems(this.popMark(), 'SETITEMS'); return true;
      default: return false;
    }
  }

  /** Marks, memo, framing and stack housekeeping. */
  private control(op: number): boolean {
    switch (op) {
      case OP.MARK: this.marks.push(this.stack.length); return true;
      case OP.POP: this.popOne(); return true;
      case OP.POP_MARK: this.popMark(); return true;
      case OP.BINPUT: this.memoize(this.u8('BINPUT index')); return true;
      case OP.LONG_BINPUT: this.memoize(this.uint(4, 'LONG_BINPUT index')); return true;
      case OP.MEMOIZE: this.memoize(this.memo.size); return true;
      case OP.BINGET: this.recall(this.u8('BINGET index')); return true;
      case OP.LONG_BINGET: this.recall(this.uint(4, 'LONG_BINGET index')); return true;
      case OP.FRAME: this.frame(this.uint(8, 'FRAME length')); return true;
      case OP.PROTO: this.fail('PROTO after the start of the pickle');
      default: return false;
    }
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

  /** LONG1/LONG4 payload: little-endian two's complement. */
  private long(n: number): number | bigint {
    if (n < 0) this.fail(`LONG4 with negative length ${n}`);
    if (n > this.lim.maxIntBytes) this.fail(`integer of ${n} bytes is over the limit of ${this.lim.maxIntBytes}`);
    const at = this.take(n, 'LONG payload');
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.data[at + i]);
    if (n > 0 && this.data[at + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
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

  private push(v: PickleValue): void {
    this.stack.push(v);
  }

  private pushContainer(c: PickleList | PickleTuple | PickleDict): void {
    let h = 1;
    if (c instanceof PickleTuple) for (const item of c.items) h = Math.max(h, 1 + containerHeight(item, this.heights));
    this.setHeight(c, h);
    this.stack.push(c);
  }

  private setHeight(c: object, h: number): void {
    if (h > this.lim.maxDepth) this.fail(`nesting deeper than ${this.lim.maxDepth} levels`);
    this.heights.set(c, h);
  }

  private floor(): number {
    return this.marks.length ? this.marks[this.marks.length - 1] : 0;
  }

  private popN(n: number, what: string): PickleValue[] {
    if (this.stack.length - this.floor() < n) this.fail(`${what} needs ${n} value(s) on the stack`);
    return this.stack.splice(this.stack.length - n, n);
  }

  private popMark(): PickleValue[] {
    const mark = this.marks.pop();
    if (mark === undefined) this.fail('no MARK to pop to');
    return this.stack.splice(mark, this.stack.length - mark);
  }

  /** POP drops the top value, or the innermost MARK when nothing lies above it (as CPython does). */
  private popOne(): void {
    if (this.stack.length > this.floor()) this.stack.pop();
    else if (this.marks.length) this.marks.pop();
    else this.fail('POP on an empty stack');
  }

  private top(what: string): PickleValue {
    if (this.stack.length <= this.floor()) this.fail(`${what} on an empty stack`);
    return this.stack[this.stack.length - 1];
  }

  private append(items: PickleValue[], what: string): void {
    const list = this.top(what);
    if (!Array.isArray(list)) this.fail(`${what} to a ${pickleTypeName(list)} (expected a list)`);
    for (const item of items) list.push(item);
    this.grow(list, items);
  }

  private setItems(items: PickleValue[], what: string): void {
    const dict = this.top(what);
    if (!(dict instanceof Map)) this.fail(`${what} on a ${pickleTypeName(dict)} (expected a dict)`);
    if (items.length % 2) this.fail(`${what} with an odd number of values (${items.length})`);
    for (let i = 0; i < items.length; i += 2) {
      const key = items[i];
      if (!isPickleKey(key)) this.fail(`dict key of type ${pickleTypeName(key)} (a memory snapshot's keys are str or int)`);
      dict.set(key, items[i + 1]);
    }
    this.grow(dict, items);
  }

  private grow(c: PickleList | PickleDict, added: PickleValue[]): void {
    let h = this.heights.get(c) ?? 1;
    for (const v of added) h = Math.max(h, 1 + containerHeight(v, this.heights));
    this.setHeight(c, h);
  }

  private memoize(index: number): void {
    const v = this.top('memo store');
    if (!this.memo.has(index) && this.memo.size >= this.lim.maxMemo) this.fail(`more than ${this.lim.maxMemo} memo entries`);
    this.memo.set(index, v);
  }

  private recall(index: number): void {
    if (!this.memo.has(index)) this.fail(`memo entry ${index} is missing`);
    this.push(this.memo.get(index) as PickleValue);
  }
}
