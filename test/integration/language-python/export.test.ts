// Real PyTorch (Debian's python3-torch under /usr/bin/python3) exporting real models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { exportPythonModel } from '../../../language/python/export';
import { discoverPython } from '../../../language/python/discovery';
import { isMemlensError } from '../../../extension/engine/errors';
import { withDefaults } from '../../../extension/engine/settings';
import { elementCount, dtypeBits } from '../../../extension/engine/graph';
import type { Model } from '../../../extension/engine/graph';
import { MEMLENS_FILE, MEMLENS_LINE, MEMLENS_SCOPE } from '../../../extension/engine/metadata-keys';

const samples = path.resolve(__dirname, '../../../../samples/python');
const RESNET_PY = '/usr/lib/python3/dist-packages/torchvision/models/resnet.py';
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-export-test-'));
const base = { trusted: true, timeoutMs: 180_000, cacheDir, pythonPath: '/usr/bin/python3' };

function initializerBytes(model: Model): number {
  let total = 0;
  for (const init of model.graph.initializers.values()) total += Math.ceil(((elementCount(init.dims) ?? 0) * dtypeBits(init.dtype)) / 8);
  return total;
}

function lineIn(file: string, needle: string, after = 0): number {
  const i = fs.readFileSync(file, 'utf8').split('\n').findIndex((l, n) => n + 1 > after && l.includes(needle));
  assert.ok(i >= 0, `"${needle}" in ${file}`);
  return i + 1;
}

/** One-line user error from an export. */
async function exportError(file: string, options: Partial<Parameters<typeof exportPythonModel>[1]>): Promise<string> {
  try {
    await exportPythonModel(file, { ...base, settings: withDefaults({}), ...options });
  } catch (e) {
    assert.ok(isMemlensError(e), `a MemlensError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    return e.message;
  }
  assert.fail('the export should have failed');
}

test('torchvision resnet.py: discovery of the real file', async () => {
  const d = await discoverPython(fs.readFileSync(RESNET_PY, 'utf8'));
  assert.deepEqual(d.classes.map((c) => c.name), ['BasicBlock', 'Bottleneck', 'ResNet']);
  const resnet = d.classes[2];
  // forward calls _forward_impl, whose calls are followed in place.
  assert.deepEqual(resnet.forward?.calls.map((c) => c.attribute), ['conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4', 'avgpool', 'fc']);
  assert.equal(resnet.forward?.calls[0].line, lineIn(RESNET_PY, 'x = self.conv1(x)'));
  const layer1 = resnet.submodules.find((s) => s.attribute === 'layer1');
  assert.equal(layer1?.constructor, 'self._make_layer');
  const basic = d.classes[0];
  assert.deepEqual(basic.forward?.calls.map((c) => c.attribute), ['conv1', 'bn1', 'relu', 'conv2', 'bn2', 'downsample', 'relu']);
  assert.deepEqual(basic.forward?.ops.filter((o) => o.ops.includes('Add')).map((o) => o.line), [lineIn(RESNET_PY, 'out += identity')]);
  assert.ok(d.functions.some((f) => f.name === 'resnet18' && f.requiredArgs.length === 0));
});

test('resnet_script.py: weights equal parameters + BatchNorm running stats, nodes land on resnet.py lines', async () => {
  const r = await exportPythonModel(path.join(samples, 'resnet_script.py'), { ...base, settings: withDefaults({ batch: 2 }) });
  assert.equal(r.exporter, 'torchscript');
  assert.equal(r.entry, 'build_model');
  assert.match(r.torchVersion, /^1\.13/);
  assert.ok(fs.existsSync(r.onnxPath));
  assert.deepEqual(r.model.graph.inputs.map((i) => [i.name, i.shape]), [['x', [2, 3, 224, 224]]]);

  // ResNet-18: 11,689,512 fp32 parameters = 46,758,048 bytes. Its 20 BatchNorm layers have
  // 4,800 channels in all; running_mean and running_var are initializers (the eval-mode
  // BatchNormalization reads them): 2 * 4,800 * 4 = 38,400 bytes. num_batches_tracked (int64,
  // one per BatchNorm) is not read by the graph and is not an initializer.
  assert.equal(initializerBytes(r.model), 46_758_048 + 38_400);
  const names = [...r.model.graph.initializers.keys()];
  assert.equal(names.filter((n) => n.endsWith('running_mean')).length, 20);
  assert.equal(names.filter((n) => n.endsWith('running_var')).length, 20);
  assert.equal(names.filter((n) => n.endsWith('num_batches_tracked')).length, 0);

  for (const n of r.model.graph.nodes) {
    assert.ok(n.metadata[MEMLENS_SCOPE] !== undefined || n.metadata[MEMLENS_LINE] !== undefined, `${n.name} has a scope or line`);
  }
  const at = (name: string) => {
    const n = r.model.graph.nodes.find((x) => x.name === name);
    assert.ok(n, `node ${name}`);
    return [n.metadata[MEMLENS_FILE], Number(n.metadata[MEMLENS_LINE]), n.metadata[MEMLENS_SCOPE]];
  };
  const forwardImpl = lineIn(RESNET_PY, 'def _forward_impl');
  assert.deepEqual(at('/conv1/Conv'), [RESNET_PY, lineIn(RESNET_PY, 'x = self.conv1(x)', forwardImpl), 'conv1']);
  assert.deepEqual(at('/Flatten'), [RESNET_PY, lineIn(RESNET_PY, 'x = torch.flatten(x, 1)'), '']);
  const basicForward = lineIn(RESNET_PY, 'def forward', lineIn(RESNET_PY, 'class BasicBlock'));
  assert.deepEqual(at('/layer1/layer1.0/conv1/Conv'), [RESNET_PY, lineIn(RESNET_PY, 'out = self.conv1(x)', basicForward), 'layer1.0.conv1']);
  assert.deepEqual(at('/layer1/layer1.0/Add'), [RESNET_PY, lineIn(RESNET_PY, 'out += identity', basicForward), 'layer1.0']);
  // relu is called twice in BasicBlock.forward: the second call is `relu_1`.
  assert.deepEqual(at('/layer1/layer1.0/relu/Relu'), [RESNET_PY, lineIn(RESNET_PY, 'out = self.relu(out)', basicForward), 'layer1.0.relu']);
  assert.deepEqual(at('/layer1/layer1.0/relu_1/Relu'), [RESNET_PY, lineIn(RESNET_PY, 'out = self.relu(out)', lineIn(RESNET_PY, 'out += identity', basicForward)), 'layer1.0.relu']);
  assert.deepEqual(at('/layer2/layer2.0/downsample/downsample.0/Conv'), [RESNET_PY, lineIn(RESNET_PY, 'identity = self.downsample(x)', basicForward), 'layer2.0.downsample.0']);

  // A second export with the same file, settings and torch comes from the cache.
  const again = await exportPythonModel(path.join(samples, 'resnet_script.py'), { ...base, settings: withDefaults({ batch: 2 }) });
  assert.equal(again.onnxPath, r.onnxPath);
  assert.equal(again.model.graph.nodes.find((n) => n.name === '/conv1/Conv')?.metadata[MEMLENS_LINE], String(lineIn(RESNET_PY, 'x = self.conv1(x)', forwardImpl)));
  const other = await exportPythonModel(path.join(samples, 'resnet_script.py'), { ...base, settings: withDefaults({ batch: 1 }) });
  assert.notEqual(other.onnxPath, r.onnxPath, 'another batch size is another export');
});

test('gpt_decoder.py: the main example gives the entry and token inputs; attention ops on their lines', async () => {
  const file = path.join(samples, 'gpt_decoder.py');
  const r = await exportPythonModel(file, { ...base, settings: withDefaults({ batch: 3, seq: 32 }) });
  assert.equal(r.entry, 'GPT(GPTConfig())');
  assert.deepEqual(r.model.graph.inputs.map((i) => [i.name, i.dtype, i.shape]), [['idx', 'int64', [3, 32]]]);
  // GPTConfig(): vocab 4096, block 256, 4 layers, width 256 (fp32). Per block: 2 LayerNorms
  // 2*512, qkv 256*768+768, proj 256*256+256, fc 256*1024+1024, out 1024*256+256 = 789,760.
  // Embeddings 4096*256 + 256*256, final LayerNorm 512, LM head 256*4096 (no bias).
  const params = 4 * 789_760 + 4096 * 256 + 256 * 256 + 512 + 256 * 4096;
  assert.equal(initializerBytes(r.model), params * 4, 'the causal mask buffer is folded into the graph as constants, not weights');
  const where = (name: string) => Number(r.model.graph.nodes.find((n) => n.name === name)?.metadata[MEMLENS_LINE]);
  assert.equal(where('/blocks.0/attn/Softmax'), lineIn(file, 'att = F.softmax(att, dim=-1)'));
  assert.equal(where('/blocks.0/attn/MatMul'), lineIn(file, 'att = (q @ k.transpose(-2, -1))'));
  assert.equal(where('/blocks.0/attn/MatMul_1'), lineIn(file, 'y = att @ v'));
  assert.equal(where('/blocks.2/attn/qkv/MatMul'), lineIn(file, 'q, k, v = self.qkv(x).split'));
  assert.equal(where('/blocks.3/Add_1'), lineIn(file, 'x = x + self.mlp(self.ln2(x))'));
  assert.equal(where('/lm_head/MatMul'), lineIn(file, 'return self.lm_head(x)'));
  const scopes = new Set(r.model.graph.nodes.map((n) => n.metadata[MEMLENS_SCOPE]));
  assert.ok(scopes.has('blocks.1.attn') && scopes.has('blocks.3.mlp.fc'));
  assert.ok(r.model.graph.nodes.every((n) => n.metadata[MEMLENS_LINE] !== undefined), 'every node has a line');
});

test('train_gpt.py: the entry directive builds the forward with its loss (training mode)', async () => {
  const file = path.join(samples, 'train_gpt.py');
  const r = await exportPythonModel(file, { ...base, settings: withDefaults({ mode: 'train', batch: 2, seq: 16 }) });
  assert.equal(r.entry, 'build_training_model');
  assert.deepEqual(r.model.graph.inputs.map((i) => [i.name, i.shape]), [['idx', [2, 16]], ['targets', [2, 16]]]);
  assert.deepEqual(r.model.graph.outputs[0].shape, [], 'the output is the scalar loss');
  const loss = r.model.graph.nodes.find((n) => n.opType === 'SoftmaxCrossEntropyLoss' || n.opType === 'NegativeLogLikelihoodLoss');
  assert.ok(loss, 'the loss is in the graph');
  assert.equal(loss.metadata[MEMLENS_FILE], file);
  assert.equal(Number(loss.metadata[MEMLENS_LINE]), lineIn(file, 'loss = F.cross_entropy'));
  const softmax = r.model.graph.nodes.find((n) => n.name === '/gpt/blocks.0/attn/Softmax');
  assert.equal(softmax?.metadata[MEMLENS_FILE], path.join(samples, 'gpt_decoder.py'), 'imported modules point at their own file');
});

function scratch(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-py-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const tiny = 'import torch\nimport torch.nn as nn\n\nclass Tiny(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 8)\n\n    def forward(self, x):\n        return self.fc(x)\n';

test('errors: untrusted, missing Python, Python without torch, syntax error, failing export', async () => {
  const file = scratch('tiny.py', tiny);
  assert.equal(await exportError(file, { trusted: false }), 'tiny.py: exporting a Python model runs its code; trust this workspace first (or open an exported .onnx file)');
  assert.equal(await exportError(file, { pythonPath: '/nonexistent/bin/python3' }), 'Python interpreter not found: /nonexistent/bin/python3 (set memlens.pythonPath to a Python with torch installed)');
  const pyenv = '/root/.pyenv/shims/python3';
  if (fs.existsSync(pyenv)) {
    const executable = execFileSync(pyenv, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
    assert.equal(await exportError(file, { pythonPath: pyenv }), `PyTorch is not installed for ${executable}; install torch there or set memlens.pythonPath to a Python that has it`);
  }
  const broken = scratch('broken.py', tiny.replace('def forward(self, x):', 'def forward(self, x)'));
  assert.equal(await exportError(broken, {}), "broken.py:9: syntax error: expected ':'");
  const failing = scratch('failing.py', tiny.replace('return self.fc(x)', 'return self.fc(x).no_such_method()'));
  assert.equal(await exportError(failing, {}), "failing.py: ONNX export failed at failing.py:10: AttributeError: 'Tensor' object has no attribute 'no_such_method'");
  const noInputs = scratch('noinputs.py', 'import torch.nn as nn\n\nclass Id(nn.Module):\n    def forward(self, x):\n        return x\n');
  assert.equal(await exportError(noInputs, {}), "noinputs.py: cannot infer the model's inputs; declare them with '# memlens: input NAME = (batch, ...) float32' above the entry");
});

test('a model file that sleeps forever is killed at the time limit', async () => {
  const file = scratch('sleepy.py', `${tiny}\nimport time\ntime.sleep(3600)\n`);
  const started = Date.now();
  const message = await exportError(file, { timeoutMs: 4000 });
  const elapsed = Date.now() - started;
  assert.equal(message, 'sleepy.py: export timed out after 4 s');
  assert.ok(elapsed < 10_000, `stopped in ${elapsed} ms`);
  const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('export_onnx.py') && l.includes(path.dirname(file)));
  assert.deepEqual(left, [], 'no bridge process is left running');
});

test('inputs from a directive with a named dim from the settings; first-layer inference otherwise', async () => {
  const declared = scratch('declared.py', `# memlens: input x = (batch, width) float32\n${tiny}`.replace('nn.Linear(8, 8)', 'nn.Linear(8, 8)'));
  const r = await exportPythonModel(declared, { ...base, settings: withDefaults({ batch: 5, dims: { width: 8 } }) });
  assert.deepEqual(r.model.graph.inputs.map((i) => i.shape), [[5, 8]]);
  assert.equal(r.entry, 'Tiny');
  const missing = await exportError(declared, { settings: withDefaults({ batch: 5 }) });
  assert.equal(missing, 'declared.py:1: input x has a dimension "width" with no value; give it with --dim width=N');
  const inferred = await exportPythonModel(scratch('inferred.py', tiny), { ...base, settings: withDefaults({ batch: 7 }) });
  assert.deepEqual(inferred.model.graph.inputs.map((i) => i.shape), [[7, 8]], 'nn.Linear(8, 8) first: (batch, in_features)');
});
