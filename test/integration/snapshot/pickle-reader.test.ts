// The opcode-level pickle reader against pickles CPython's own `pickle` module wrote (protocols 2
// to 5), compared with Python's description of the same values; and against refused and hostile
// pickles, whose first refused opcode and offset come from Python's `pickletools`.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMemlensError } from '../../../extension/engine/errors';
import { readPickle } from '../../../extension/engine/snapshot/pickle-reader';
import { PickleTuple, type PickleValue } from '../../../extension/engine/snapshot/pickle-value';
import { removeDir, writeWithPython } from './python-pickles';

const dir = writeWithPython('write_pickles.py');
after(() => removeDir(dir));

const load = (name: string) => fs.readFileSync(path.join(dir, name));
const json = (name: string): unknown => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));

type Tagged = { none: true } | { bool: boolean } | { int: string } | { float: string } | { str: string } | { bytes: string }
  | { list: Tagged[] } | { tuple: Tagged[] } | { dict: [Tagged, Tagged][] };

function pyFloat(repr: string): number {
  return repr === 'inf' ? Infinity : repr === '-inf' ? -Infinity : repr === 'nan' ? NaN : Number(repr);
}

/** Asserts that `v` is the value Python described as `t`. */
function assertSame(v: PickleValue, t: Tagged, at: string): void {
  if ('none' in t) assert.equal(v, null, at);
  else if ('bool' in t) assert.equal(v, t.bool, at);
  else if ('int' in t) {
    const big = BigInt(t.int);
    if (typeof v === 'bigint') assert.equal(v, big, at);
    else assert.ok(typeof v === 'number' && Number.isSafeInteger(v) && BigInt(v) === big, `${at}: ${JSON.stringify(v)} != ${t.int}`);
  } else if ('float' in t) assert.ok(typeof v === 'number' && Object.is(v, pyFloat(t.float)), `${at}: ${JSON.stringify(v)} != ${t.float}`);
  else if ('str' in t) assert.equal(v, t.str, at);
  else if ('bytes' in t) assert.ok(v instanceof Uint8Array && Buffer.from(v).toString('hex') === t.bytes, at);
  else if ('list' in t) {
    assert.ok(Array.isArray(v), `${at}: not a list`);
    assert.equal(v.length, t.list.length, at);
    t.list.forEach((x, i) => assertSame(v[i], x, `${at}[${i}]`));
  } else if ('tuple' in t) {
    assert.ok(v instanceof PickleTuple, `${at}: not a tuple`);
    assert.equal(v.items.length, t.tuple.length, at);
    t.tuple.forEach((x, i) => assertSame(v.items[i], x, `${at}[${i}]`));
  } else {
    assert.ok(v instanceof Map, `${at}: not a dict`);
    const entries = [...v.entries()];
    assert.equal(entries.length, t.dict.length, at);
    t.dict.forEach(([k, x], i) => {
      assertSame(entries[i][0], k, `${at} key ${i}`);
      assertSame(entries[i][1], x, `${at}[${String(entries[i][0])}]`);
    });
  }
}

const cases = ['scalars', 'bigints', 'floats', 'unicode', 'nested', 'memo', 'large', 'snapshot'];
for (const name of cases) {
  test(`${name}: protocols 2 to 5 read back as Python wrote them`, () => {
    for (const proto of [2, 3, 4, 5]) {
      const file = `${name}-p${proto}`;
      assertSame(readPickle(load(`${file}.pickle`)), json(`${file}.json`) as Tagged, file);
    }
  });
}

test('bytes (protocol 3 BINBYTES, protocol 5 BYTEARRAY8) read back as Python wrote them', () => {
  for (const file of ['bytes-p3', 'bytes-p5']) assertSame(readPickle(load(`${file}.pickle`)), json(`${file}.json`) as Tagged, file);
});

test('memo references keep sharing: one list object where Python pickled one', () => {
  for (const proto of [2, 4]) {
    const v = readPickle(load(`memo-p${proto}.pickle`)) as Map<string, PickleValue>;
    assert.ok(Array.isArray(v.get('first')));
    assert.equal(v.get('first'), v.get('second'));
  }
});

test('a 60-level DAG of shared lists (2^60 paths) is read and checked in linear time', () => {
  const start = Date.now();
  const v = readPickle(load('dag-p4.pickle'));
  assert.ok(Array.isArray(v) && v.length === 2 && v[0] === v[1]);
  assert.ok(Date.now() - start < 2000, `${Date.now() - start} ms`);
});

for (const name of ['system-p2', 'system-p4', 'bytes-p2', 'set-p4', 'complex-p4']) {
  test(`refused: ${name} fails at the first refused opcode, at the offset pickletools reports`, () => {
    const want = json(`refused-${name}.json`) as { opcode: string; offset: number };
    assert.throws(() => readPickle(load(`refused-${name}.pickle`)), (e: unknown) => {
      assert.ok(isMemlensError(e));
      assert.match(e.message, new RegExp(`^pickle offset ${want.offset}: opcode ${want.opcode} \\(0x[0-9a-f]{2}\\) is refused: `));
      assert.ok(!e.message.includes('\n'));
      return true;
    });
    assert.equal(fs.existsSync(path.join(dir, 'EXECUTED')), false);
  });
}

const hostile: [string, RegExp][] = [
  ['deep', /^pickle offset \d+: nesting deeper than 64 levels$/],
  ['huge-unicode8', /^pickle offset 2: truncated: BINUNICODE8 length is 1152921504606846976, 3 bytes remain$/],
  ['huge-unicode', /^pickle offset 2: truncated: BINUNICODE string needs 4294967295 bytes, 2 remain$/],
  ['huge-frame', /^pickle offset 2: truncated: FRAME declares 1099511627776 bytes, 2 remain$/],
  ['huge-long4', /^pickle offset 2: integer of 1000000 bytes is over the limit of 1024$/],
  ['cycle', /^pickle offset 6: a container placed inside itself: a recursive structure/],
  ['cycle-2', /^pickle offset \d+: APPEND into a container already placed inside another: a recursive structure/],
  ['bad-utf8', /^pickle offset 2: SHORT_BINUNICODE string is not valid UTF-8$/],
  ['surrogate', /^pickle offset \d+: SHORT_BINUNICODE string is not valid UTF-8$/],
  ['protocol0', /^pickle offset 0: not a pickle of protocol 2 to 5 \(first byte 0x28;/],
  ['no-stop', /^pickle offset 2: truncated: FRAME declares \d+ bytes, \d+ remain$/],
  ['frame-straddle', /^pickle offset 11: SHORT_BINUNICODE string runs past the end of its FRAME \(offset 14\)$/],
];
for (const [name, message] of hostile) {
  test(`hostile: ${name} gives one clear line`, () => {
    assert.throws(() => readPickle(load(`hostile-${name}.pickle`)), (e: unknown) => isMemlensError(e) && message.test(e.message));
  });
}

test('every truncation of a real pickle fails with one line naming the offset', () => {
  for (const proto of [2, 4]) {
    const data = load(`snapshot-p${proto}.pickle`);
    for (let n = 0; n < data.length; n++) {
      assert.throws(() => readPickle(data.subarray(0, n)), (e: unknown) =>
        isMemlensError(e) && /^pickle offset \d+: (truncated|not a pickle)/.test(e.message) && !e.message.includes('\n'), `prefix ${n}`);
    }
  }
});

test('limits on input size, memo entries and depth are enforced', () => {
  const data = load('large-p4.pickle');
  assert.throws(() => readPickle(data, { maxBytes: 1000 }), /pickle: \d+ bytes is over the limit of 1000/);
  assert.throws(() => readPickle(data, { maxMemo: 100 }), /memo index 100 is over the limit of 100 entries/);
  assert.throws(() => readPickle(load('nested-p4.pickle'), { maxDepth: 3 }), /nesting deeper than 3 levels/);
  assert.doesNotThrow(() => readPickle(load('nested-p4.pickle'), { maxDepth: 5 }));
});
