import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { discoverPython } from '../../../language/python/discovery';
import type { ModuleClass, PythonDiscovery } from '../../../language/python/discovery';

const samples = path.resolve(__dirname, '../../../../samples/python');
const read = (name: string) => fs.readFileSync(path.join(samples, name), 'utf8');

function cls(d: PythonDiscovery, name: string): ModuleClass {
  const c = d.classes.find((x) => x.name === name);
  assert.ok(c, `class ${name} discovered`);
  return c;
}

/** 1-based line of the first line containing `needle` after line `after`. */
function lineOf(text: string, needle: string, after = 0): number {
  const i = text.split('\n').findIndex((l, n) => n + 1 > after && l.includes(needle));
  assert.ok(i >= 0, `"${needle}" is in the text`);
  return i + 1;
}

test('gpt_decoder.py: module classes, submodules, forward calls and ops, the main example', async () => {
  const text = read('gpt_decoder.py');
  const d = await discoverPython(text);
  assert.deepEqual(d.classes.map((c) => c.name), ['CausalSelfAttention', 'MLP', 'Block', 'GPT']);
  assert.deepEqual(d.syntaxErrors, []);

  const gpt = cls(d, 'GPT');
  assert.deepEqual(gpt.requiredArgs, []);
  const blocks = gpt.submodules.find((s) => s.attribute === 'blocks');
  assert.equal(blocks?.kind, 'list');
  assert.deepEqual(blocks?.elements, [{ line: lineOf(text, 'self.blocks = nn.ModuleList'), constructor: 'Block' }]);
  assert.equal(gpt.submodules.find((s) => s.attribute === 'lm_head')?.constructor, 'nn.Linear');
  const fwd = gpt.forward;
  assert.ok(fwd);
  assert.equal(fwd.line, lineOf(text, 'def forward(self, idx)'));
  assert.deepEqual(fwd.parameters, ['idx']);
  assert.deepEqual(fwd.calls.map((c) => [c.attribute, c.line]), [
    ['tok_emb', lineOf(text, 'x = self.tok_emb(idx)')],
    ['pos_emb', lineOf(text, 'x = self.tok_emb(idx)')],
    ['blocks', lineOf(text, 'x = block(x)')],
    ['ln_f', lineOf(text, 'x = self.ln_f(x)')],
    ['lm_head', lineOf(text, 'return self.lm_head(x)')],
  ]);
  assert.ok(fwd.calls[2].loop, 'the block call goes through the loop over self.blocks');
  assert.equal(fwd.statements.length, 6);

  // Evaluation order: the innermost call first.
  const mlp = cls(d, 'MLP');
  assert.deepEqual(mlp.forward?.calls.map((c) => c.attribute), ['fc', 'act', 'out']);

  const attn = cls(d, 'CausalSelfAttention');
  assert.deepEqual(attn.requiredArgs, ['cfg']);
  const ops = attn.forward?.ops ?? [];
  const softmax = ops.filter((o) => o.ops.includes('Softmax'));
  assert.deepEqual(softmax.map((o) => o.line), [lineOf(text, 'att = F.softmax(att, dim=-1)')]);
  const matmuls = ops.filter((o) => o.ops.includes('MatMul')).map((o) => o.line);
  assert.deepEqual(matmuls, [lineOf(text, 'att = (q @ k.transpose'), lineOf(text, 'y = att @ v')]);

  assert.deepEqual(d.main?.model, { variable: 'model', expression: 'GPT(GPTConfig())', line: lineOf(text, 'model = GPT(GPTConfig())') });
  assert.deepEqual(d.main?.inputs, [{ name: 'idx', shape: ['batch', 'seq'], dtype: 'int64', line: lineOf(text, 'idx = torch.randint') }]);
});

test('train_gpt.py: entry and input directives attach to the function below them', async () => {
  const text = read('train_gpt.py');
  const d = await discoverPython(text);
  assert.deepEqual(d.classes.map((c) => c.name), ['GPTWithLoss']);
  const builder = d.functions.find((f) => f.name === 'build_training_model');
  assert.ok(builder);
  assert.equal(builder.returns, 'GPTWithLoss');
  assert.deepEqual(builder.directives, [
    { kind: 'entry', name: 'build_training_model', line: lineOf(text, '# memlens: entry') },
    { kind: 'input', line: lineOf(text, 'input idx'), input: { name: 'idx', shape: ['batch', 'seq'], dtype: 'int64', line: lineOf(text, 'input idx') } },
    { kind: 'input', line: lineOf(text, 'input targets'), input: { name: 'targets', shape: ['batch', 'seq'], dtype: 'int64', line: lineOf(text, 'input targets') } },
  ]);
  assert.deepEqual(d.fileDirectives, []);
  const loss = cls(d, 'GPTWithLoss').forward?.ops.find((o) => o.ops.includes('SoftmaxCrossEntropyLoss'));
  assert.equal(loss?.line, lineOf(text, 'loss = F.cross_entropy'));
});

test('resnet_script.py: a builder function and a chained model construction in __main__', async () => {
  const text = read('resnet_script.py');
  const d = await discoverPython(text);
  assert.deepEqual(d.classes, []);
  assert.deepEqual(d.functions.map((f) => [f.name, f.requiredArgs, f.returns]), [['build_model', [], 'resnet18']]);
  assert.equal(d.main?.model?.expression, 'build_model()', '.eval() is not part of the model expression');
  assert.deepEqual(d.main?.inputs, [{ name: 'x', shape: ['batch', 3, 224, 224], dtype: 'float32', line: lineOf(text, 'x = torch.randn') }]);
});

test('module bases through aliases, subclass chains, Sequential elements and subscripted calls', async () => {
  const text = [
    'from torch.nn import Module as Base',
    'import torch.nn as nn',
    'Layer = nn.Module',
    '',
    'class A(Base):',
    '    def forward(self, x):',
    '        return x',
    '',
    'class B(A):',
    '    pass',
    '',
    'class C(Layer):',
    '    def __init__(self, width, depth=2):',
    '        super().__init__()',
    '        self.body = nn.Sequential(',
    '            nn.Linear(width, width),',
    '            nn.ReLU(),',
    '        )',
    '        self.heads = nn.ModuleList([nn.Linear(width, 1) for _ in range(depth)])',
    '',
    '    def forward(self, x):',
    '        h = self._trunk(x)',
    '        return self.heads[0](h) + self.heads[1](h)',
    '',
    '    def _trunk(self, x):',
    '        return self.body(x)',
    '',
    'class NotAModel:',
    '    pass',
  ].join('\n');
  const d = await discoverPython(text);
  assert.deepEqual(d.classes.map((c) => c.name), ['A', 'B', 'C']);
  const c = cls(d, 'C');
  assert.deepEqual(c.requiredArgs, ['width']);
  assert.deepEqual(c.submodules.map((s) => [s.attribute, s.kind, s.elements.map((e) => [e.line, e.constructor])]), [
    ['body', 'sequential', [[16, 'nn.Linear'], [17, 'nn.ReLU']]],
    ['heads', 'list', [[19, 'nn.Linear']]],
  ]);
  // The helper method is followed at its call: body (line 26) comes before the heads (line 23).
  assert.deepEqual(c.forward?.calls.map((x) => [x.attribute, x.line]), [['body', 26], ['heads', 23], ['heads', 23]]);
  assert.deepEqual(c.forward?.ops.filter((o) => o.ops.includes('Add')).map((o) => o.line), [23]);
});

test('input directives: dims, dtypes and file-level placement', async () => {
  const text = [
    '# memlens: input x = (batch, 3, H, 224) float16',
    '',
    'import torch',
    '',
    '# memlens: input ids = (batch, seq) torch.long',
    'class M(torch.nn.Module):',
    '    pass',
  ].join('\n');
  const d = await discoverPython(text);
  assert.deepEqual(d.fileDirectives, [{ kind: 'input', line: 1, input: { name: 'x', shape: ['batch', 3, 'H', 224], dtype: 'float16', line: 1 } }]);
  assert.deepEqual(cls(d, 'M').directives, [{ kind: 'input', line: 5, input: { name: 'ids', shape: ['batch', 'seq'], dtype: 'int64', line: 5 } }]);
});

test('example shapes from named constants and size= keywords', async () => {
  const text = [
    'import torch',
    'B, T = 4, 64',
    'C = 32',
    'if __name__ == "__main__":',
    '    model = Net()',
    '    x = torch.zeros(size=(B, T, C))',
    '    y = torch.rand(B, C)',
    '    out = model(x, y)',
  ].join('\n');
  const d = await discoverPython(text);
  assert.deepEqual(d.main?.inputs.map((i) => [i.name, i.shape, i.dtype]), [
    ['x', ['batch', 'seq', 32], 'float32'],
    ['y', ['batch', 32], 'float32'],
  ]);
});

test('unsaved text with a syntax error still yields what parses, and the error position', async () => {
  const text = 'import torch\nclass M(torch.nn.Module):\n    def forward(self, x)\n        return x\n';
  const d = await discoverPython(text);
  assert.ok(d.syntaxErrors.length > 0);
  assert.equal(d.syntaxErrors[0].line, 3);
  assert.deepEqual(d.classes.map((c) => c.name), ['M'], 'the class around the typo is still found');
});
