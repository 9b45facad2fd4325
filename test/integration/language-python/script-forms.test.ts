// Python files as users write them, exported with real PyTorch (Debian's torch 1.13): the script
// runs and its first call of a model is captured with its real inputs; no directives anywhere.
// Parameter counts are worked out by hand from the layer shapes (a Linear(i, o) has i*o + o).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exportPythonModel } from '../../../language/python/export';
import { profileFile } from '../../../extension/analysis/profile-file';
import { isMemlensError } from '../../../extension/engine/errors';
import { FROZEN_KEY, PARAMETERS_KEY, SCRIPT_STEP_KEY } from '../../../extension/engine/metadata-keys';
import { withDefaults } from '../../../extension/engine/settings';

const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-script-forms-'));
const PY = '/usr/bin/python3';
const base = { trusted: true, timeoutMs: 180_000, cacheDir, pythonPath: PY };
const scriptSizes = { batch: false, seq: false };

function scratch(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-form-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const lineOf = (file: string, needle: string) => fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(needle)) + 1;

const LOOP = `import os
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for step in range(1000):
    x = torch.randn(16, 32)
    y = torch.randint(0, 10, (16,))
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    with open(os.path.join(os.path.dirname(__file__), "steps.txt"), "a") as f:
        f.write("%d\\n" % step)
`;

test('a module-level model trained by a module-level loop of 1000 steps: stopped at its first backward, the real batch, the script\'s optimizer', async () => {
  const file = scratch('loop.py', LOOP);
  const started = Date.now();
  const { profile } = await profileFile({ file, ...base, settings: withDefaults({ mode: 'train' }), given: { mode: true, batch: false, seq: false, optimizer: false } });
  assert.ok(Date.now() - started < 120_000);
  assert.equal(fs.existsSync(path.join(path.dirname(file), 'steps.txt')), false, 'no step of the loop completed');
  // Linear(32, 64) + Linear(64, 10) = 32*64 + 64 + 64*10 + 10.
  assert.equal(profile.params, 2_762);
  assert.equal(profile.totals.weightBytes, 2_762 * 4);
  assert.equal(profile.settings.batch, 16, "the script's own batch");
  assert.equal(profile.settings.optimizer, 'sgd-momentum', 'the optimizer the script built, as none was asked for');
  // SGD with momentum keeps one buffer per parameter.
  assert.equal(profile.totals.optimizerStateBytes, 2_762 * 4);
  assert.ok(profile.peak.bytes > profile.totals.weightBytes);
  // The nn.Sequential has no forward of its own in the file: its ops are on the line that calls it.
  const call = lineOf(file, 'loss = nn.functional.cross_entropy(model(x), y)');
  assert.ok(profile.lines.some((l) => l.file === file && l.line === call && l.peakBytes > 0), 'figures on the line that calls the model');
});

test('--batch replaces the captured batch (rows repeat); the export records the call, the optimizer and the loss', async () => {
  const file = scratch('loop.py', LOOP);
  const r = await exportPythonModel(file, { ...base, settings: withDefaults({ mode: 'train', batch: 5 }), given: { batch: true, seq: false } });
  assert.deepEqual(r.model.graph.inputs.map((i) => [i.dtype, i.shape]), [['float32', [5, 32]]]);
  assert.deepEqual(r.step, {
    call: { className: 'Sequential', file, line: lineOf(file, 'loss = nn.functional.cross_entropy(model(x), y)'), batch: 16 },
    optimizer: { class: 'SGD', kind: 'sgd-momentum', implementation: 'single-tensor' },
    loss: { shape: [], gradFn: 'NllLossBackward0' },
  });
  assert.deepEqual(JSON.parse(r.model.metadata[SCRIPT_STEP_KEY]), r.step);
});

test('a model built inside main() with constructor arguments, called from a loop in main()', async () => {
  const file = scratch('train.py', `import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc1 = nn.Linear(20, width)
        self.fc2 = nn.Linear(width, 5)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        return self.fc2(h)


def main():
    model = Net(48)
    optimizer = torch.optim.AdamW(model.parameters())
    for epoch in range(10):
        loss = model(torch.randn(8, 20)).pow(2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


if __name__ == "__main__":
    main()
`);
  const r = await exportPythonModel(file, { ...base, settings: withDefaults({}), given: scriptSizes });
  assert.equal(r.entry, 'Net');
  assert.deepEqual(r.model.graph.inputs.map((i) => [i.name, i.shape]), [['x', [8, 20]]], 'named after the forward\'s parameter');
  const { profile } = await profileFile({ file, ...base, settings: withDefaults({ mode: 'train' }), given: { mode: true, batch: false, seq: false, optimizer: false } });
  assert.equal(profile.params, 20 * 48 + 48 + 48 * 5 + 5);
  assert.equal(profile.settings.optimizer, 'adamw');
  assert.ok(profile.lines.some((l) => l.file === file && l.line === lineOf(file, 'h = torch.relu(self.fc1(x))')), "the forward's own lines");
});

test('a model fed by a DataLoader: the batch the loader yields', async () => {
  const file = scratch('loader.py', `import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

data = TensorDataset(torch.randn(256, 3, 16, 16), torch.randint(0, 4, (256,)))
loader = DataLoader(data, batch_size=12, shuffle=True)
net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 16 * 16, 4))
opt = torch.optim.Adam(net.parameters())
for epoch in range(5):
    for images, labels in loader:
        opt.zero_grad()
        nn.functional.cross_entropy(net(images), labels).backward()
        opt.step()
`);
  const { profile } = await profileFile({ file, ...base, settings: withDefaults({}), given: { mode: true, batch: false, seq: false, optimizer: false } });
  assert.equal(profile.settings.batch, 12);
  // Conv2d(3, 8, 3): 3*8*9 + 8; Linear(2048, 4): 2048*4 + 4.
  assert.equal(profile.params, 3 * 8 * 9 + 8 + 2048 * 4 + 4);
});

test('models nobody calls: a module-level instance, and one named by `# memlens: entry`', async () => {
  const instance = scratch('instance.py', 'import torch.nn as nn\n\nmodel = nn.Sequential(nn.Linear(10, 6), nn.Tanh())\n');
  const a = await exportPythonModel(instance, { ...base, settings: withDefaults({ batch: 3 }) });
  assert.equal(a.entry, 'model');
  assert.deepEqual(a.model.graph.inputs.map((i) => i.shape), [[3, 10]], 'inputs from the first layer');
  const named = scratch('named.py', '# memlens: entry net\nimport torch.nn as nn\n\nnet = nn.Linear(7, 2)\nother = nn.Linear(100, 100)\n');
  const b = await exportPythonModel(named, { ...base, settings: withDefaults({ batch: 2 }) });
  assert.equal(b.entry, 'net');
  assert.deepEqual(b.model.graph.inputs.map((i) => i.shape), [[2, 7]]);
});

async function exportError(file: string, settings = withDefaults({})): Promise<string> {
  try {
    await exportPythonModel(file, { ...base, settings });
  } catch (e) {
    assert.ok(isMemlensError(e), String(e));
    assert.ok(!e.message.includes('\n'), e.message);
    return e.message;
  }
  assert.fail('the export should fail');
}

test('export failures: the exporter\'s own reason and the user\'s line', async () => {
  const file = scratch('spectral.py', `import torch
import torch.nn as nn


class Spectral(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return torch.fft.rfft(self.fc(x)).abs()


if __name__ == "__main__":
    print(Spectral()(torch.randn(2, 8)).shape)
`);
  assert.equal(await exportError(file),
    "spectral.py: ONNX export failed at spectral.py:11: UnsupportedOperatorError: Exporting the operator 'aten::fft_rfft' to ONNX opset version 17 is not supported.");
  const failing = scratch('nothing.py', 'import torch\nprint(torch.ones(2).sum())\n');
  assert.equal(await exportError(failing), "nothing.py: the script ran to its end without calling an nn.Module that has parameters, and defines none at module level; name the model with '# memlens: entry NAME'");
  const crash = scratch('crash.py', 'import torch\n\nraise RuntimeError("no dataset at /data")\n');
  assert.equal(await exportError(crash), 'crash.py: the script failed before it called a model at crash.py:3: RuntimeError: no dataset at /data');
});

test("torchvision's stochastic depth (bernoulli_ with a float p) exports in training mode", async () => {
  const file = scratch('depth.py', `import torch
import torch.nn as nn
from torchvision.ops import StochasticDepth


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 16)
        self.drop = StochasticDepth(0.2, "row")

    def forward(self, x):
        return x + self.drop(self.fc(x))


if __name__ == "__main__":
    Residual()(torch.randn(4, 16))
`);
  const r = await exportPythonModel(file, { ...base, settings: withDefaults({ mode: 'train' }), given: scriptSizes });
  const ops = r.model.graph.nodes.map((n) => n.opType);
  assert.ok(ops.includes('RandomUniformLike') && ops.includes('Less'), `the mask is drawn in the graph: ${ops.join(' ')}`);
});

test('parameters and buffers by name: tied weights under every name, frozen ones, BatchNorm statistics and a mask buffer are not parameters', async () => {
  const file = scratch('kinds.py', `import torch
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.frozen = nn.Linear(16, 16)
        self.frozen.requires_grad_(False)
        self.norm = nn.BatchNorm1d(16)
        self.head = nn.Linear(16, 50, bias=False)
        self.head.weight = self.embed.weight
        self.register_buffer("keep", torch.ones(16, dtype=torch.bool))

    def forward(self, ids):
        h = self.frozen(self.embed(ids)).masked_fill(~self.keep, 0.0)
        return self.head(self.norm(h.transpose(1, 2)).transpose(1, 2))


if __name__ == "__main__":
    Tagger()(torch.randint(0, 50, (2, 6)))
`);
  const r = await exportPythonModel(file, { ...base, settings: withDefaults({ mode: 'train' }), given: scriptSizes });
  const initializers = [...r.model.graph.initializers.keys()];
  const parameters = JSON.parse(r.model.metadata[PARAMETERS_KEY]) as string[];
  // The tied weight is one initializer, under whichever of its names the exporter kept.
  assert.ok(initializers.includes('embed.weight') !== initializers.includes('head.weight'));
  assert.deepEqual(parameters, ['embed.weight', 'frozen.bias', 'frozen.weight', 'head.weight', 'norm.bias', 'norm.weight'].filter((n) => initializers.includes(n)));
  assert.deepEqual(JSON.parse(r.model.metadata[FROZEN_KEY]), ['frozen.bias', 'frozen.weight']);
  for (const buffer of ['norm.running_mean', 'norm.running_var', 'keep']) {
    if (initializers.includes(buffer)) assert.ok(!parameters.includes(buffer), `${buffer} is a buffer`);
  }
  const { profile } = await profileFile({ file, ...base, settings: withDefaults({ mode: 'train' }), given: { mode: true, batch: false, seq: false, optimizer: true } });
  // sum(p.numel() for p in model.parameters()): embedding 50*16 (tied, once), Linear 16*16+16, BatchNorm 2*16.
  assert.equal(profile.params, 50 * 16 + 16 * 16 + 16 + 2 * 16);
  assert.equal(profile.trainableParams, 50 * 16 + 2 * 16);
});

test('an inference export stops the script at its first model call, before the forward runs; a training export runs it; a lazy model is made by its forward first', async () => {
  const marks = scratch('marks.txt', '');
  const text = (layer: string) => `import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = ${layer}

    def forward(self, x):
        open(${JSON.stringify(marks)}, "a").write("forward\\n")
        return self.fc(x).relu()


net = Net()
out = net(torch.randn(3, 12))
open(${JSON.stringify(marks)}, "a").write("after the call\\n")
out.sum().backward()
`;
  const file = scratch('net.py', text('nn.Linear(12, 7)'));
  const infer = await exportPythonModel(file, { ...base, settings: withDefaults({}), given: scriptSizes });
  // One forward: the exporter's trace; the script stopped at the call.
  assert.deepEqual(fs.readFileSync(marks, 'utf8').split('\n').filter(Boolean), ['forward']);
  assert.deepEqual(infer.model.graph.inputs.map((i) => i.shape), [[3, 12]], 'the captured call\'s inputs');
  assert.equal(infer.step?.call.line, lineOf(file, 'out = net('));
  assert.deepEqual(JSON.parse(infer.model.metadata[PARAMETERS_KEY]), ['fc.bias', 'fc.weight']);

  fs.writeFileSync(marks, '');
  const train = await exportPythonModel(file, { ...base, settings: withDefaults({ mode: 'train' }), given: scriptSizes });
  // The script's forward, the lines after it up to its backward, then the exporter's trace.
  assert.deepEqual(fs.readFileSync(marks, 'utf8').split('\n').filter(Boolean), ['forward', 'after the call', 'forward']);
  assert.deepEqual(train.step?.loss, { shape: [], gradFn: 'SumBackward0' });

  fs.writeFileSync(marks, '');
  const lazy = scratch('lazy.py', text('nn.LazyLinear(7)'));
  const made = await exportPythonModel(lazy, { ...base, settings: withDefaults({}), given: scriptSizes });
  assert.equal(fs.readFileSync(marks, 'utf8').split('\n').filter((l) => l === 'forward').length, 2, 'the script\'s call made the lazy weights, then the trace');
  // LazyLinear(7) on 12 features: a 7 x 12 weight and 7 biases, as after the first call.
  assert.deepEqual([...made.model.graph.initializers.values()].map((t) => t.dims).sort(), [[7], [7, 12]]);
});
