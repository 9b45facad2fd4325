// PYTORCH_CUDA_ALLOC_CONF as c10/core/AllocatorConfig.cpp reads it, and its checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllocConf } from '../../../extension/engine/torch-alloc/config';
import { MiB } from '../../../extension/engine/torch-alloc/sizes';

test('keys, lists and spaces', () => {
  const { config, notSimulated } = parseAllocConf(' max_split_size_mb:100, max_non_split_rounding_mb : 30,expandable_segments:True,garbage_collection_threshold:0.6');
  assert.equal(config.maxSplitSize, 100 * MiB);
  assert.equal(config.maxNonSplitRoundingSize, 30 * MiB);
  assert.equal(config.expandableSegments, true);
  assert.equal(config.largeSegmentSize, 20 * MiB);
  assert.equal(notSimulated.length, 1);
  assert.match(notSimulated[0], /^garbage_collection_threshold: /);
});

test('an empty setting is the default', () => {
  const { config } = parseAllocConf('');
  assert.equal(config.maxSplitSize, Infinity);
  assert.equal(config.expandableSegments, false);
  assert.deepEqual(config.roundupPower2Divisions, new Array(16).fill(0));
});

const bad: [string, RegExp][] = [
  ['max_split_size_mb:10', /max_split_size_mb must be >= 20, got 10$/],
  ['max_split_size_mb:1.5', /max_split_size_mb expects a whole number of MiB, got '1.5'$/],
  ['large_segment_size_mb:10', /large_segment_size_mb must be > 10, got 10$/],
  ['expandable_segments:true', /expandable_segments expects True or False, got 'true'$/],
  ['roundup_power2_divisions:3', /must be a power of 2, got '3'$/],
  ['roundup_power2_divisions:[100:4]', /intervals must be powers of 2 \(MiB\), got '100'$/],
  ['roundup_power2_divisions:[64:8', /roundup_power2_divisions: /],
  ['max_split_size_mb:', /max_split_size_mb expects a whole number of MiB, got ''$/],
  ['max_split_size_mb:20,large_segment_size_mb:25', /max_split_size_mb \(20\) must be >= large_segment_size_mb \(25\)$/],
  ['backend:cudaMallocAsync', /cudaMallocAsync is CUDA's own allocator, which is not simulated$/],
  ['max_split_sizes_mb:40', /unrecognized key 'max_split_sizes_mb'$/],
  ['expandable_segments', /expected ':' after 'expandable_segments'$/],
  ['expandable_segments:True;max_split_size_mb:40', /expects True or False, got 'True;max_split_size_mb'$/],
];
for (const [text, message] of bad) {
  test(`refused: ${text}`, () => {
    assert.throws(() => parseAllocConf(text), (e: Error) => e.message.startsWith('PYTORCH_CUDA_ALLOC_CONF: ') && message.test(e.message));
  });
}
