// Bad snapshot data gets one line naming the field's path; optional fields may be absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSnapshot } from '../../../extension/engine/snapshot/snapshot-decode';
import { segmentSizeDifference } from '../../../extension/engine/snapshot/snapshot-totals';
import type { PickleValue } from '../../../extension/engine/snapshot/pickle-value';

type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain };

/** JSON-like test data as the pickle reader would build it (dicts become Maps). */
function pv(x: Plain): PickleValue {
  if (Array.isArray(x)) return x.map(pv);
  if (x !== null && typeof x === 'object') return new Map(Object.entries(x).map(([k, v]) => [k, pv(v)]));
  return x;
}

const block = { size: 512, requested_size: 8, state: 'active_allocated', address: 4096, frames: [] };
const segment = { address: 4096, total_size: 2097152, stream: 0, segment_type: 'small', blocks: [block] };

test('a minimal snapshot decodes with the optional fields at their derived values', () => {
  const s = decodeSnapshot(pv({ segments: [segment] }));
  assert.equal(s.deviceTraces.length, 0);
  assert.equal(s.allocatorSettings, null);
  const seg = s.segments[0];
  assert.equal(seg.device, 0);
  assert.equal(seg.allocatedSize, 512);
  assert.equal(seg.requestedSize, 8);
  assert.equal(seg.isExpandable, false);
  assert.equal(seg.privatePoolId, null);
});

const bad: [string, Plain, RegExp][] = [
  ['not a dict', 'hello', /^snapshot: top level: expected a dict, got str$/],
  ['no segments', { device_traces: [] }, /^snapshot: top level: no 'segments' key/],
  ['block size missing', { segments: [{ ...segment, blocks: [{ state: 'inactive' }] }] }, /^snapshot: segments\[0\]\.blocks\[0\]\.size: missing$/],
  ['size is a str', { segments: [{ ...segment, total_size: '2MB' }] }, /^snapshot: segments\[0\]\.total_size: expected an int, got str$/],
  ['negative size', { segments: [{ ...segment, total_size: -1 }] }, /^snapshot: segments\[0\]\.total_size: expected a size >= 0, got -1$/],
  ['unknown pool', { segments: [{ ...segment, segment_type: 'huge' }] }, /segment_type: expected 'small' or 'large', got 'huge'$/],
  ['unknown state', { segments: [{ ...segment, blocks: [{ ...block, state: 'busy' }] }] }, /blocks\[0\]\.state: unknown block state 'busy'$/],
  ['frame without line', { segments: [{ ...segment, blocks: [{ ...block, frames: [{ filename: 'a.py', name: 'f' }] }] }] }, /blocks\[0\]\.frames\[0\]\.line: missing$/],
  ['trace without size', { segments: [], device_traces: [[{ action: 'alloc', addr: 1, stream: 0 }]] }, /^snapshot: device_traces\[0\]\[0\]\.size: missing$/],
  ['oom without device_free', { segments: [], device_traces: [[{ action: 'oom', size: 1, stream: 0 }]] }, /device_traces\[0\]\[0\]\.device_free: missing$/],
];
for (const [what, data, message] of bad) {
  test(`bad input: ${what}`, () => {
    assert.throws(() => decodeSnapshot(pv(data)), (e: Error) => message.test(e.message) && !e.message.includes('\n'));
  });
}

test('integers beyond 2^53 are refused rather than rounded', () => {
  const data = pv({ segments: [segment] }) as Map<string, PickleValue>;
  ((data.get('segments') as PickleValue[])[0] as Map<string, PickleValue>).set('address', 2n ** 60n);
  assert.throws(() => decodeSnapshot(data), /segments\[0\]\.address: integer 1152921504606846976 is outside the range/);
});

test('the record limit stops an oversized snapshot', () => {
  const many = { segments: Array.from({ length: 10 }, () => segment) };
  assert.throws(() => decodeSnapshot(pv(many), { maxRecords: 5 }), /more than 5 records/);
});

test('segment size difference counts multiplicity', () => {
  assert.deepEqual(segmentSizeDifference([2, 2, 20], [2, 20, 20]), { missing: [2], extra: [20] });
  assert.deepEqual(segmentSizeDifference([4, 2], [2, 4]), { missing: [], extra: [] });
});
