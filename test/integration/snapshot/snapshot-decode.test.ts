// The typed snapshot decoder on pickles shaped like torch 1.13, 2.0, 2.1 and 2.6+ snapshots,
// written by CPython's pickle from plain data laid out as torch documents it; the records it must
// produce (including the fields PyTorch derives when a format leaves them out) are computed by the
// same Python script. No figure here comes from a GPU.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSnapshot } from '../../../extension/engine/snapshot/snapshot-decode';
import { snapshotTotals } from '../../../extension/engine/snapshot/snapshot-totals';
import { removeDir, writeWithPython } from './python-pickles';

const dir = writeWithPython('write_snapshots.py');
after(() => removeDir(dir));

/** The decoded snapshot as JSON, with Infinity spelled as the Python script spells it. */
function asJson(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (x === Infinity ? 'Infinity' : x)));
}

for (const fmt of ['torch-1.13', 'torch-2.0', 'torch-2.1', 'torch-2.6']) {
  test(`${fmt}: decodes to the records derived in Python, at protocol 2 and the default protocol`, () => {
    const expected = JSON.parse(fs.readFileSync(path.join(dir, `${fmt}.expected.json`), 'utf8')) as object;
    const files = fs.readdirSync(dir).filter((f) => f.startsWith(`${fmt}-p`) && f.endsWith('.pickle'));
    assert.equal(files.length, 2);
    for (const file of files) {
      const s = readSnapshot(fs.readFileSync(path.join(dir, file)));
      const { notes, ...records } = s;
      assert.deepEqual(asJson(records), expected, file);
      if (fmt === 'torch-2.6') assert.deepEqual(notes, ["1 trace entries with unknown action 'future_action' skipped"]);
      if (fmt === 'torch-2.0') assert.match(notes.join('\n'), /torch 2\.0 format/);
    }
  });
}

test('shared frames lists stay shared after decoding', () => {
  const s = readSnapshot(fs.readFileSync(path.join(dir, 'torch-2.6-p4.pickle')));
  const model = s.segments[0].blocks[0].frames;
  assert.equal(model.length, 2);
  assert.equal(s.segments[1].blocks[0].frames, model);
  assert.equal(s.deviceTraces[0][1].frames, model);
});

test('totals follow the docstring: reserved = sum of segments, allocated = sum of active_allocated block sizes', () => {
  const s = readSnapshot(fs.readFileSync(path.join(dir, 'torch-2.1-p4.pickle')));
  const t = snapshotTotals(s);
  const MiB = 2 ** 20;
  assert.equal(t.reservedBytes, 2 * MiB + 20 * MiB + 12 * MiB);
  assert.equal(t.allocatedBytes, 512 + 1024 + 2 * MiB + 512);
  assert.equal(t.requestedBytes, 4 + 1000 + 2 * MiB + 100);
  assert.equal(t.small.reservedBytes, 2 * MiB);
  assert.equal(t.large.segments, 2);
});
