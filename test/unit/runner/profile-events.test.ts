import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { arenaHeld, median, nodesByRun, peakFromNodes, type TraceEvent } from '../../../extension/runner/profile-events';

const node = (name: string, ts: number, dur: number, args: Record<string, string>): TraceEvent => ({
  cat: 'Node', name: `${name}_kernel_time`, ts, dur,
  args: { op_name: 'Add', provider: 'CPUExecutionProvider', node_index: '0', output_size: '64', activation_size: '64', parameter_size: '0', ...args },
});

// Two runs; in the second a Loop body node runs twice.
const trace: TraceEvent[] = [
  { cat: 'Session', name: 'session_initialization', ts: 0, dur: 50 },
  node('a', 110, 5, { mem_bytes_in_use: '128', mem_bytes_requested_in_use: '100', mem_in_use_peak: '128', mem_arena_held: '1024', mem_in_use_delta: '64' }),
  { cat: 'Session', name: 'model_run', ts: 100, dur: 40 },
  node('a', 210, 3, { mem_bytes_in_use: '128', mem_bytes_requested_in_use: '100', mem_in_use_peak: '256', mem_arena_held: '1024', mem_in_use_delta: '0' }),
  node('body.add', 215, 2, { output_size: '32', mem_bytes_in_use: '160', mem_in_use_peak: '256', mem_arena_held: '2048' }),
  node('body.add', 220, 4, { output_size: '32', mem_bytes_in_use: '192', mem_in_use_peak: '256', mem_arena_held: '2048' }),
  { cat: 'Session', name: 'model_run', ts: 200, dur: 30 },
  { cat: 'Node', name: 'a_fence_before', ts: 209, dur: 0 },
];

describe('profile events', () => {
  const runs = nodesByRun(trace);

  it('splits node events by model_run', () => {
    assert.deepEqual(runs.map((r) => [r.durationUs, r.nodes.map((n) => n.node)]), [[40, ['a']], [30, ['a', 'body.add']]]);
  });

  it('reads the arena figures and strips the provider suffix', () => {
    const a = runs[0].nodes[0];
    assert.deepEqual(
      [a.op, a.provider, a.nodeIndex, a.outputBytes, a.inUseBytes, a.requestedInUseBytes, a.inUsePeakBytes, a.arenaHeldBytes, a.inUseDeltaBytes],
      ['Add', 'CPU', 0, 64, 128, 100, 128, 1024, 64],
    );
  });

  it('sums the time of a node that ran twice in one run and keeps its largest memory figures', () => {
    const b = runs[1].nodes[1];
    assert.deepEqual([b.executions, b.durationUs, b.inUseBytes, b.arenaHeldBytes, b.requestedInUseBytes], [2, 6, 192, 2048, null]);
  });

  it('takes the arena peak, else the largest in-use, else nothing', () => {
    assert.deepEqual(peakFromNodes(runs[1].nodes), { bytes: 256, source: 'arena-peak' });
    const noPeak = runs[1].nodes.map((n) => ({ ...n, inUsePeakBytes: null }));
    assert.deepEqual(peakFromNodes(noPeak), { bytes: 192, source: 'node-in-use' });
    assert.equal(peakFromNodes(noPeak.map((n) => ({ ...n, inUseBytes: null }))), null);
    assert.equal(arenaHeld(runs[1].nodes), 2048);
  });

  it('medians', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.equal(median([]), 0);
  });
});
