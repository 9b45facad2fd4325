// The ideal plan's sharing rule (engine/memory/aliasing.ts) against ONNX Runtime's kernels
// (engine/ort/inplace-kernels.ts): ORT shares a subset of what the ideal plan shares, so the ideal
// plan stays a lower bound; and on one graph, the two plans side by side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aliasGroups } from '../../../extension/engine/memory/activations';
import { MAY_INPLACE_OPS, VIEW_OPS } from '../../../extension/engine/memory/aliasing';
import { inferenceSchedule } from '../../../extension/engine/memory/schedule';
import { planAllocations } from '../../../extension/engine/ort/allocation-plan';
import { ORT_CPU_MAY_INPLACE } from '../../../extension/engine/ort/inplace-kernels';
import { GraphBuilder } from '../../fixtures/graph-builder';
import { tabled } from './graphs';

test('every kernel ONNX Runtime lets write in place is one the ideal plan lets write in place; views are neither', () => {
  for (const op of ORT_CPU_MAY_INPLACE) assert.ok(MAY_INPLACE_OPS.has(op), op);
  for (const op of VIEW_OPS) assert.ok(!MAY_INPLACE_OPS.has(op), op);
});

test('Add and Erf over dying inputs: in place in the ideal plan, new buffers in ONNX Runtime\'s plan', () => {
  // x[4,8] -> mm -> h; a = Add(h, bias) (h dies); e = Erf(a) (a dies); y = MatMul(e, W2).
  const b = new GraphBuilder();
  b.input('x', 'float32', [4, 8]);
  b.op('MatMul', ['x', b.weight('W', [8, 8])], { name: 'mm', outputs: ['h'] });
  b.op('Add', ['h', b.weight('bias', [8])], { name: 'add', outputs: ['a'] });
  b.op('Erf', ['a'], { name: 'erf', outputs: ['e'] });
  b.op('MatMul', ['e', b.weight('W2', [8, 8])], { name: 'mm2', outputs: ['y'] });
  b.output('y', 'float32', [4, 8]);
  const t = tabled(b.model(17));
  const { aliases } = aliasGroups(t.table, { schedule: inferenceSchedule(t.table), savedUntil: new Map(), splits: new Map(), settings: t.settings, options: { frozen: new Set() } });
  assert.deepEqual([...aliases.members], [['a', 'h'], ['e', 'h']]);
  const ort = planAllocations(t.table, t.shapes, new Set(['y']));
  // ORT: Add and Erf declare no MayInplace; e takes h's buffer only as a dead one of its size.
  assert.deepEqual(ort.steps.map((s) => s.allocate.map((a) => ort.buffers[a.buffer].tensor)), [['h'], ['a'], [], ['y']]);
  assert.deepEqual(ort.buffers.find((buf) => buf.tensor === 'h')?.sharedBy, ['e']);
});
