import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Graph, GraphNode } from '../../../extension/engine/graph';
import { discoverPython } from '../../../language/python/discovery';
import { chooseEntry } from '../../../language/python/entry';
import { locateNodes, scopeChain } from '../../../language/python/source-map';
import type { ModuleRecord } from '../../../language/python/source-map';
import { lineFromStackTrace, locationFromTorchMetadata } from '../../../language/python/torch-stack-trace';
import { isMemlensError } from '../../../extension/engine/errors';

const FILE = '/src/net.py';
const SOURCE = [
  'import torch',                          // 1
  'import torch.nn as nn',                 // 2
  '',                                      // 3
  'class Block(nn.Module):',               // 4
  '    def __init__(self):',               // 5
  '        super().__init__()',            // 6
  '        self.fc = nn.Linear(4, 4)',     // 7
  '        self.act = nn.ReLU()',          // 8
  '',                                      // 9
  '    def forward(self, x):',             // 10
  '        h = self.act(self.fc(x))',      // 11
  '        h = h + x',                     // 12
  '        return self.act(h)',            // 13
  '',                                      // 14
  'class Net(nn.Module):',                 // 15
  '    def __init__(self):',               // 16
  '        super().__init__()',            // 17
  '        self.stage = nn.Sequential(Block(), Block())', // 18
  '',                                      // 19
  '    def forward(self, x):',             // 20
  '        x = self.stage(x)',             // 21
  '        return torch.flatten(x, 1)',    // 22
  '',
].join('\n');

function record(path: string, className: string, builtin: boolean): ModuleRecord {
  const forwardLine = className === 'Block' ? 10 : className === 'Net' ? 20 : 1;
  return { path, className, classModule: builtin ? 'torch.nn' : 'net', classFile: builtin ? '/torch/nn.py' : FILE, forwardQualname: `${className}.forward`, forwardFile: builtin ? '/torch/nn.py' : FILE, forwardLine, builtin };
}

const RECORDS: ModuleRecord[] = [
  record('', 'Net', false), record('stage', 'Sequential', true),
  record('stage.0', 'Block', false), record('stage.0.fc', 'Linear', true), record('stage.0.act', 'ReLU', true),
  record('stage.1', 'Block', false), record('stage.1.fc', 'Linear', true), record('stage.1.act', 'ReLU', true),
];

const node = (name: string, opType: string, inputs: string[], outputs: string[]): GraphNode => ({ name, opType, domain: '', inputs, outputs, attributes: {}, metadata: {} });

test('scope chains: relative, absolute (Sequential children) and repeated-call segments', () => {
  const modules = new Map(RECORDS.map((r) => [r.path, r]));
  assert.deepEqual(scopeChain('/stage/stage.0/fc/MatMul', modules), [{ path: 'stage', callIndex: 0 }, { path: 'stage.0', callIndex: 0 }, { path: 'stage.0.fc', callIndex: 0 }]);
  assert.deepEqual(scopeChain('/stage/stage.1/act_1/Relu', modules)?.at(-1), { path: 'stage.1.act', callIndex: 1 });
  assert.deepEqual(scopeChain('/Flatten', modules), []);
  assert.equal(scopeChain('Constant_7', modules), null);
});

test('node locations: call sites, nth calls, ops in a forward, constants by their consumer', async () => {
  const d = await discoverPython(SOURCE);
  const graph: Graph = {
    name: 'g', inputs: [], outputs: [], initializers: new Map(), valueInfo: new Map(),
    nodes: [
      node('/stage/stage.0/fc/Gemm', 'Gemm', ['x'], ['a']),
      node('/stage/stage.0/act/Relu', 'Relu', ['a'], ['b']),
      node('/stage/stage.0/Add', 'Add', ['b', 'x'], ['c']),
      node('/stage/stage.0/act_1/Relu', 'Relu', ['c'], ['d']),
      node('Constant_9', 'Constant', [], ['k']),
      node('/Flatten', 'Flatten', ['d', 'k'], ['y']),
    ],
  };
  const located = locateNodes(graph, RECORDS, (r) => d.classes.find((c) => `${c.name}.forward` === r.forwardQualname)?.forward ?? null);
  const at = (n: string) => { const l = located.get(n); return [l?.line, l?.scope]; };
  assert.deepEqual(at('/stage/stage.0/fc/Gemm'), [11, 'stage.0.fc']);
  assert.deepEqual(at('/stage/stage.0/act/Relu'), [11, 'stage.0.act']);
  assert.deepEqual(at('/stage/stage.0/Add'), [12, 'stage.0']);
  assert.deepEqual(at('/stage/stage.0/act_1/Relu'), [13, 'stage.0.act']);
  assert.deepEqual(at('/Flatten'), [22, '']);
  assert.deepEqual(at('Constant_9'), [22, ''], 'an unscoped constant takes its consumer\'s place');
  assert.equal(located.get('/Flatten')?.file, FILE);
});

test('dynamo metadata: innermost frame outside torch, scope from name_scopes', () => {
  const trace = 'File "/home/u/model.py", line 31, in forward\n    q = self.qkv(x)\nFile "/usr/lib/python3/site-packages/torch/nn/modules/linear.py", line 114, in forward\n    return F.linear(input, self.weight, self.bias)';
  assert.deepEqual(lineFromStackTrace(trace), { file: '/home/u/model.py', line: 31 });
  assert.deepEqual(locationFromTorchMetadata({ 'pkg.torch.onnx.stack_trace': trace, 'pkg.torch.onnx.name_scopes': "['', 'blocks.0', 'blocks.0.attn', 'blocks.0.attn.qkv', 'linear_3']" }), { file: '/home/u/model.py', line: 31, scope: 'blocks.0.attn.qkv' });
  // A node outside every module: the list holds only the FX node's own name.
  assert.equal(locationFromTorchMetadata({ 'pkg.torch.onnx.name_scopes': "['add_1']" })?.scope, '');
  assert.equal(locationFromTorchMetadata({}), null);
});

test('entry choice: option and directive first; otherwise the script runs, with the static choice as its fallback', async () => {
  const d = await discoverPython(SOURCE);
  const script = chooseEntry(d, 'net.py');
  assert.equal(script.source, 'script');
  assert.deepEqual(script.request, { kind: 'script' });
  assert.equal(script.label, null, 'the bridge names the module it captures');
  assert.deepEqual(script.source === 'script' && script.fallback, { request: { kind: 'name', name: 'Net' }, label: 'Net', inputs: null, source: 'class' });
  assert.deepEqual(chooseEntry(d, 'net.py', 'Block'), { request: { kind: 'name', name: 'Block' }, label: 'Block', inputs: null, source: 'option' });
  const withMain = await discoverPython(`${SOURCE}\nif __name__ == "__main__":\n    n = 4\n    net = Net()\n    print(net(torch.randn(n, 4)))\n`);
  const main = chooseEntry(withMain, 'net.py');
  assert.equal(main.label, 'Net()', 'the main block names the run');
  assert.deepEqual(main.source === 'script' && main.fallback?.request, { kind: 'expression', expression: 'Net()', prelude: 'n = 4' });
  const directive = await discoverPython(`# memlens: entry make\n${SOURCE}\n# memlens: input x = (batch, 4)\ndef make():\n    return Net()\n`);
  assert.deepEqual(chooseEntry(directive, 'net.py'), {
    request: { kind: 'name', name: 'make' }, label: 'make', source: 'directive',
    inputs: [{ name: 'x', shape: ['batch', 4], dtype: 'float32', line: 25 }],
  });
  // Declared inputs for the whole file: the static choice is built with them, the script does not run.
  const declared = await discoverPython(`# memlens: input x = (batch, 4)\n${SOURCE}`);
  assert.deepEqual(chooseEntry(declared, 'net.py').request, { kind: 'name', name: 'Net' });
  const bad = await discoverPython('# memlens: input x = [1, 2]\nimport torch\n');
  assert.throws(() => chooseEntry(bad, 'bad.py'), (e: unknown) => isMemlensError(e) && e.message === 'bad.py:1: cannot read "# memlens: input x = [1, 2]" (expected "entry NAME" or "input NAME = (dims) dtype")');
  // Nothing discovery can build: the script still runs (a model built at module level is found there).
  const none = chooseEntry(await discoverPython('import torch\nx = 1\n'), 'none.py');
  assert.equal(none.source === 'script' && none.fallback, null);
});
