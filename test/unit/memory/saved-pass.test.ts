// The saved-for-backward pass over a graph: which tensors outlive the forward and until when,
// and the buffers of what ops keep besides graph tensors (a LayerNorm's per-row statistics).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkpointRegions } from '../../../extension/engine/memory/regions';
import { savedPass } from '../../../extension/engine/memory/saved';
import { trainingSchedule } from '../../../extension/engine/memory/schedule';
import { CHECKPOINT_KEY } from '../../../extension/engine/metadata-keys';
import { GraphBuilder, int } from '../../fixtures/graph-builder';
import { mlpWithLoss, tabled, type Tabled } from './graphs';

function run(t: Tabled, trainable: string[]) {
  const schedule = trainingSchedule(t.table, new Set(trainable));
  return savedPass(t.table, t.shapes, t.settings, schedule, checkpointRegions(t.table, schedule));
}

test('MatMul keeps what the other input\'s gradient needs, ReLU its output: r until relu\'s backward', () => {
  const saved = run(tabled(mlpWithLoss(), { mode: 'train' }), ['W1', 'W2']);
  // fc2 (backward step 5) keeps r and W2; relu (6) keeps r; fc1 (7) keeps x (x needs no gradient, so W1 is not kept).
  assert.deepEqual([...saved.until].sort(), [['W2', 5], ['r', 6], ['x', 7]]);
  assert.deepEqual([...saved.produced], ['r']);
  assert.equal(saved.buffers.length, 0);
  assert.equal(saved.decisions.get(1)?.rule, 'Relu saves its output');
});

/** x[4,16] -> LayerNormalization(axis -1) -> y -> ReduceSum -> loss; positions ln 0, sum 1. */
function layerNorm(checkpointed: boolean) {
  const b = new GraphBuilder();
  b.input('x', 'float32', [4, 16]);
  const meta: Record<string, string> = checkpointed ? { [CHECKPOINT_KEY]: 'ckpt:ln' } : {};
  b.op('LayerNormalization', ['x', b.weight('g', [16]), b.weight('beta', [16])], { name: 'ln', outputs: ['y'], attrs: { axis: int(-1) }, metadata: meta });
  b.op('ReduceSum', ['y'], { name: 'sum', outputs: ['loss'], attrs: { keepdims: int(0) } });
  b.output('loss', 'float32', []);
  return b.model(17);
}

test('LayerNorm keeps 2 fp32 statistics per row until its backward, and needs an input-sized workspace there', () => {
  // Steps: ln 0, sum 1, backward sum 2, backward ln 3, optimizer 4.
  const saved = run(tabled(layerNorm(false), { mode: 'train' }), ['g', 'beta']);
  const [stats, workspace] = saved.buffers;
  assert.equal(saved.buffers.length, 2);
  assert.deepEqual({ kind: stats.kind, bytes: stats.bytes, start: stats.start, end: stats.end }, { kind: 'saved', bytes: 2 * 4 * 4, start: 0, end: 3 });
  assert.ok(stats.kind === 'saved' && stats.extra.node === 0 && stats.extra.item === 'mean, inverse std');
  assert.deepEqual({ kind: workspace.kind, bytes: workspace.bytes, start: workspace.start, end: workspace.end }, { kind: 'workspace', bytes: 4 * 16 * 4, start: 3, end: 3 });
  assert.ok(workspace.kind === 'workspace' && workspace.use.kind === 'backward' && workspace.use.node === 0);
});

test('a checkpointed LayerNorm drops its statistics after its forward step and recomputes them at its backward', () => {
  const saved = run(tabled(layerNorm(true), { mode: 'train' }), ['g', 'beta']);
  const [forward, back] = saved.buffers;
  assert.ok(forward.kind === 'workspace' && forward.use.kind === 'checkpointed-extra');
  assert.deepEqual([forward.start, forward.end, forward.bytes], [0, 0, 32]);
  assert.ok(back.kind === 'restored' && back.how === 'recomputed' && back.of.kind === 'extra');
  assert.deepEqual([back.start, back.end, back.bytes], [3, 3, 32]);
});

test('under bf16 the statistics are 16-bit: the compute dtype applies to fp32 extras', () => {
  const saved = run(tabled(layerNorm(false), { mode: 'train', dtype: 'bf16' }), ['g', 'beta']);
  assert.equal(saved.buffers[0].bytes, 2 * 4 * 2);
});
