// Checks of data from a child: each wrong field is named by its path, figures must be finite,
// unknown tags and missing fields are refused, extra fields are dropped.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  anyObject, arrayOf, bool, bytes, count, nullable, num, object, oneOf, optional, recordOf, runCheck, str, tagged, variant,
} from '../../../extension/process/check';

const reply = tagged('type', {
  stage: variant('type', 'stage', { stage: str }),
  result: variant('type', 'result', {
    result: object({ peak: num, nodes: arrayOf(object({ name: str, bytes: count, delta: nullable(num) })), note: optional(str) }),
  }),
});

function reason(value: unknown): string {
  const r = runCheck(reply, value);
  assert.ok(!r.ok, 'refused');
  return r.reason;
}

describe('checks of child replies', () => {
  it('accepts a valid message, keeps the tag and drops fields it does not know', () => {
    const r = runCheck(reply, { type: 'result', result: { peak: 10, nodes: [{ name: 'a', bytes: 4, delta: null, extra: 1 }] }, junk: true });
    assert.deepEqual(r, { ok: true, value: { type: 'result', result: { peak: 10, nodes: [{ name: 'a', bytes: 4, delta: null }] } } });
  });

  it('names the first wrong field by its path', () => {
    assert.equal(reason({ type: 'result', result: { peak: 10, nodes: [{ name: 'a', bytes: 4, delta: null }, { name: 'b', bytes: -1, delta: 0 }] } }),
      'result.nodes[1].bytes is -1, expected a whole number >= 0');
    assert.equal(reason({ type: 'result', result: { nodes: [] } }), 'result.peak is undefined, expected a finite number');
    assert.equal(reason({ type: 'stage', stage: 3 }), 'stage is 3, expected a string');
  });

  it('refuses non-finite figures', () => {
    assert.equal(reason({ type: 'result', result: { peak: NaN, nodes: [] } }), 'result.peak is NaN, expected a finite number');
    assert.equal(reason({ type: 'result', result: { peak: Infinity, nodes: [] } }), 'result.peak is Infinity, expected a finite number');
    assert.equal(reason({ type: 'result', result: { peak: 1, nodes: [{ name: 'a', bytes: 1.5, delta: null }] } }),
      'result.nodes[0].bytes is 1.5, expected a whole number >= 0');
  });

  it('refuses an unknown tag, a non-object and a wrong optional field', () => {
    assert.equal(reason({ type: 'hello' }), 'type is "hello", expected one of stage, result');
    assert.equal(reason('result'), 'the reply is "result", expected an object');
    assert.equal(reason([1]), 'the reply is an array, expected an object');
    assert.equal(reason({ type: 'result', result: { peak: 1, nodes: [], note: 5 } }), 'result.note is 5, expected a string');
  });

  it('reads the other primitives', () => {
    assert.deepEqual(runCheck(oneOf(['a', 'b'] as const), 'b'), { ok: true, value: 'b' });
    assert.deepEqual(runCheck(oneOf(['a', 'b'] as const), 'c'), { ok: false, reason: 'the reply is "c", expected one of "a", "b"' });
    assert.deepEqual(runCheck(bool, 0), { ok: false, reason: 'the reply is 0, expected true or false' });
    assert.equal(runCheck(bytes, new Uint8Array([1])).ok, true);
    assert.deepEqual(runCheck(bytes, [1]), { ok: false, reason: 'the reply is an array, expected bytes' });
    assert.equal(runCheck(anyObject, null).ok, false);
    const map = runCheck(recordOf(num), JSON.parse('{"__proto__": 1, "constructor": 2}'));
    assert.ok(map.ok);
    assert.equal(Object.getPrototypeOf(map.value), null, 'own keys only, no prototype to collide with');
    assert.deepEqual({ ...map.value }, { ['__proto__']: 1, constructor: 2 });
    assert.equal(runCheck(str, 'x'.repeat(100)).ok, true);
    assert.deepEqual(runCheck(num, 'x'.repeat(100)), { ok: false, reason: 'the reply is a long string, expected a finite number' });
  });
});
