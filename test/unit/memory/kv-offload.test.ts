// The KV-offload pass on three layers: each layer's past cache is on the device from the previous
// layer's step until its own, each written cache from its step until the next layer's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activationPass } from '../../../extension/engine/memory/activations';
import type { Buffer } from '../../../extension/engine/memory/buffer-types';
import { kvOffloadPass } from '../../../extension/engine/memory/kv-offload';
import { inferenceSchedule } from '../../../extension/engine/memory/schedule';
import { weightAndInputBuffers } from '../../../extension/engine/memory/weights';
import { GraphBuilder, int } from '../../fixtures/graph-builder';
import { tabled } from './graphs';

/**
 * Layer l: present.l.key = Concat(past_key_values.l.key [1,4], h_l [1,2]) at position 2l, and
 * h_(l+1) = its first two columns (Slice) at 2l + 1; h_0 = x. Five steps, layers at 0, 2 and 4.
 */
function cacheChain() {
  const b = new GraphBuilder();
  b.input('x', 'float32', [1, 2]);
  let h = 'x';
  for (let l = 0; l < 3; l++) {
    b.input(`past_key_values.${l}.key`, 'float32', [1, 4]);
    b.op('Concat', [`past_key_values.${l}.key`, h], { name: `cat${l}`, outputs: [`present.${l}.key`], attrs: { axis: int(1) } });
    b.output(`present.${l}.key`, 'float32', [1, 6]);
    if (l < 2) h = b.one('Slice', [`present.${l}.key`, b.ints([0]), b.ints([2]), b.ints([1])], { name: `slice${l}` });
  }
  return b.model(13);
}

const window = (buffers: Buffer[], tensor: string) => {
  const b = buffers.find((x) => x.kind === 'tensor' && x.tensor === tensor);
  return b && [b.start, b.end, b.persistent, b.category];
};

test('windows per layer; the current input x stays held for the whole step', () => {
  const t = tabled(cacheChain());
  const schedule = inferenceSchedule(t.table);
  const act = activationPass(t.table, { schedule, savedUntil: new Map(), splits: new Map(), settings: t.settings, options: { frozen: new Set() } });
  const before = [...weightAndInputBuffers(t.table, schedule.last), ...act.buffers];
  assert.deepEqual(t.table.nodes.map((n) => n.name), ['cat0', 'slice0', 'cat1', 'slice1', 'cat2']);
  assert.deepEqual(window(before, 'past_key_values.1.key'), [0, 4, true, 'kvCache']);
  const after = kvOffloadPass(t.table, before, act.aliases);
  // Past: from the previous layer's step (prefetch) to its own; present: from its step to the next layer's.
  assert.deepEqual(['0', '1', '2'].map((l) => window(after, `past_key_values.${l}.key`)), [[0, 0, false, 'kvCache'], [0, 2, false, 'kvCache'], [2, 4, false, 'kvCache']]);
  assert.deepEqual(['0', '1', '2'].map((l) => window(after, `present.${l}.key`)), [[0, 2, false, 'kvCache'], [2, 4, false, 'kvCache'], [4, 4, false, 'kvCache']]);
  assert.deepEqual(window(after, 'x'), [0, 4, true, 'inputs']);
  // The pass returns new records: the buffers it was given are unchanged.
  assert.deepEqual(window(before, 'past_key_values.2.key'), [0, 4, true, 'kvCache']);
});
