// Source attribution: metadata, PyTorch stack traces, node-name scopes, and per-line figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeModel } from '../../../extension/engine/analyze';
import { generalScope, outermostScopes } from '../../../extension/engine/attribution/lines';
import { innermostUserFrame, nodeOrigin, scopeFromName } from '../../../extension/engine/attribution/origin';
import type { GraphNode } from '../../../extension/engine/graph';
import { withDefaults } from '../../../extension/engine/settings';
import { GraphBuilder } from '../../fixtures/graph-builder';

const node = (name: string, metadata: Record<string, string> = {}): GraphNode => ({ name, opType: 'MatMul', domain: '', inputs: [], outputs: [], attributes: {}, metadata });

test('MemLens metadata wins, then the innermost non-torch frame of a dynamo stack trace, then the node name', () => {
  assert.deepEqual(nodeOrigin(node('/a/MatMul', { 'memlens.file': 'm.ts', 'memlens.line': '12', 'memlens.column': '5', 'memlens.scope': 'blocks.0.attn' })), {
    source: { file: 'm.ts', line: 12, column: 5 }, scope: 'blocks.0.attn',
  });
  const trace = [
    'File "/home/u/model.py", line 40, in forward\n    x = self.block(x)',
    'File "/home/u/model.py", line 21, in forward\n    return self.proj(x)',
    'File "/usr/lib/python3/dist-packages/torch/nn/modules/linear.py", line 114, in forward\n    return F.linear(input, self.weight, self.bias)',
  ].join('\n');
  assert.deepEqual(innermostUserFrame(trace), { file: '/home/u/model.py', line: 21 });
  const o = nodeOrigin(node('node_linear', { 'pkg.torch.onnx.stack_trace': trace, 'pkg.torch.onnx.name_scopes': "['', 'block', 'block.proj', 'linear']" }));
  assert.deepEqual(o, { source: { file: '/home/u/model.py', line: 21 }, scope: 'block.proj' });
  assert.deepEqual(nodeOrigin(node('/encoder/layer.3/attention/MatMul_1')), { source: null, scope: '/encoder/layer.3/attention' });
  assert.equal(scopeFromName('/Flatten'), '/');
  assert.equal(scopeFromName('Conv_0'), '');
});

test('a module a line calls into belongs to the same instance', () => {
  assert.deepEqual(outermostScopes(['l.0.attn', 'l.0.attn.rotary', 'l.1.attn', 'l.1.attn.rotary', 'l.10.attn']), ['l.0.attn', 'l.1.attn', 'l.10.attn']);
  assert.deepEqual(outermostScopes(['/a/b', '/a/b/c', '/a/bc']), ['/a/b', '/a/bc']);
});

test('a line calling two different modules ran once; one looping over layers ran per layer', () => {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [2, 8]);
  const at = (line: string, scope: string) => ({ 'memlens.file': 'm.ts', 'memlens.line': line, 'memlens.scope': scope });
  let h = b.one('Relu', [x], { name: 'n', metadata: at('5', 'norm') });
  h = b.one('MatMul', [h, b.weight('w', [8, 8])], { name: 'head', metadata: at('5', 'lm_head') });
  for (let i = 0; i < 4; i++) h = b.one('Tanh', [h], { name: `t${i}`, metadata: at('9', `blocks.${i}.act`) });
  b.op('Identity', [h], { name: 'o', outputs: ['y'] });
  b.output('y', 'float32', [2, 8]);
  const p = analyzeModel(b.model(), withDefaults({}), { source: 'm.ts', entry: null });
  const line5 = p.lines.find((l) => l.line === 5)!;
  assert.equal(line5.repeats, 1);
  assert.equal(line5.scope, 'norm, lm_head');
  const line9 = p.lines.find((l) => l.line === 9)!;
  assert.equal(line9.repeats, 4);
  assert.equal(line9.scope, 'blocks.*.act');
});

test('a line run in several modules generalises its scope', () => {
  assert.equal(generalScope(['h.0.attn', 'h.1.attn', 'h.11.attn']), 'h.*.attn');
  assert.equal(generalScope(['layer1.0.conv2', 'layer2.1.conv2']), 'layer*.*.conv2');
  assert.equal(generalScope(['/a/b', '/a/c/d']), '/a/*');
  assert.equal(generalScope(['only']), 'only');
});

test('per-line figures: bytes produced, repeats per module instance, bytes at the peak', () => {
  const b = new GraphBuilder();
  let x = b.input('x', 'float32', [4, 16]);
  for (let i = 0; i < 3; i++) {
    const md = { 'memlens.file': 'model.ts', 'memlens.line': '10', 'memlens.scope': `layers.${i}` };
    x = b.one('MatMul', [x, b.weight(`layers.${i}.w`, [16, 16])], { name: `/layers.${i}/MatMul`, metadata: md });
    x = b.one('Relu', [x], { name: `/layers.${i}/Relu`, metadata: { ...md, 'memlens.line': '11' } });
  }
  b.op('Identity', [x], { name: 'out', outputs: ['y'] });
  b.output('y', 'float32', [4, 16]);
  const p = analyzeModel(b.model(), withDefaults({}), { source: 'model.ts', entry: null });
  const line10 = p.lines.find((l) => l.line === 10)!;
  assert.equal(line10.repeats, 3);
  assert.equal(line10.scope, 'layers.*');
  assert.equal(line10.bytes, 3 * 4 * 16 * 4);
  assert.deepEqual(line10.ops, { MatMul: 3 * 256 });
  assert.equal(line10.nodes.length, 3);
  // Weights are attributed to the line that uses them: 3 x 16x16 fp32 are live at any peak.
  assert.ok(line10.peakBytes >= 3 * 1024);
  const sumAtPeak = p.lines.reduce((a, l) => a + l.peakBytes, 0);
  // Inputs and weights are attributed to their first consumer, so the lines account for the whole peak.
  assert.equal(sumAtPeak, p.peak.bytes);
});
