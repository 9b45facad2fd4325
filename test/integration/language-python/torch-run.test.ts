// `--run` on a .py model: real training steps and forwards under Debian's torch 1.13, measured
// by PyTorch. Checked against figures that do not come from MemLens: a peak worked out by hand,
// and the CPU allocator's own running total (`total_allocated`) in a profile the test takes itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { profileFile } from '../../../extension/analysis/profile-file';
import { formatProfile } from '../../../extension/cli/format-table';
import { isMemlensError } from '../../../extension/engine/errors';
import { isTorchMeasured, type TorchMeasuredFigures } from '../../../extension/engine/measured-torch';
import type { Profile } from '../../../extension/engine/profile';
import { withDefaults } from '../../../extension/engine/settings';
import { measureTorchModel } from '../../../language/python/measure';

const PY = '/usr/bin/python3';
const base = { trusted: true, timeoutMs: 240_000, pythonPath: PY };

function scratch(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-torch-run-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function measuredOf(p: Profile): TorchMeasuredFigures {
  assert.ok(isTorchMeasured(p.measured), 'a PyTorch measurement');
  return p.measured;
}

function sumAtPeak(m: TorchMeasuredFigures): number {
  return m.atPeak.lines.reduce((a, l) => a + l.bytes, 0) + Object.values(m.atPeak.buckets).reduce((a, b) => a + (b ?? 0), 0);
}

const lineOf = (file: string, needle: string) => fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(needle)) + 1;

test('inference: one Linear(1024, 1024) on a 256-row batch peaks at weights + input + output = 6 MiB', async () => {
  const file = scratch('proj.py', `# memlens: input x = (batch, 1024) float32
import torch.nn as nn


class Projection(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(1024, 1024, bias=False)

    def forward(self, x):
        return self.proj(x)
`);
  const { profile } = await profileFile({ file, ...base, settings: withDefaults({ batch: 256 }), run: { ep: 'cpu', runs: 3 } });
  const m = measuredOf(profile);
  assert.equal(m.device, 'cpu');
  assert.equal(m.peakBytes, (1024 * 1024 + 256 * 1024 + 256 * 1024) * 4);
  assert.equal(sumAtPeak(m), m.peakBytes);
  assert.equal(m.atPeak.buckets.parameters, 1024 * 1024 * 4);
  assert.equal(m.atPeak.buckets.inputs, 256 * 1024 * 4);
  assert.deepEqual(m.atPeak.lines.map((l) => [l.file, l.line, l.bytes]), [[file, lineOf(file, 'return self.proj(x)'), 256 * 1024 * 4]]);
  assert.ok(m.comparison, 'inference is compared with an inference estimate');
  assert.equal(m.comparison.measuredPeakBytes, m.peakBytes);
  assert.equal(m.comparison.estimatedPeakBytes, profile.peak.bytes);
});

const MLP = `# memlens: input x = (batch, 512) float32
# memlens: input y = (batch) int64
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(512, 1024)
        self.out = nn.Linear(1024, 10)

    def forward(self, x, y):
        h = F.relu(self.hidden(x))
        logits = self.out(h)
        return F.cross_entropy(logits, y)
`;

// The same steps MemLens runs for a model without a script loop (bridge/measure_torch.py),
// profiled here, with the peak read from the allocator's running total, not from replayed events.
const INDEPENDENT = String.raw`
import importlib.util, json, sys, torch
from torch.profiler import profile, ProfilerActivity, record_function
spec = importlib.util.spec_from_file_location("m", sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
model = m.Classifier(); model.train()
x, y = torch.randn(64, 512), torch.zeros(64, dtype=torch.int64)
opt = torch.optim.AdamW(model.parameters())
base = sum(t.numel() * t.element_size() for t in [*model.parameters(), x, y])
with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
    for k in range(3):
        with record_function("step%d" % k):
            opt.zero_grad(set_to_none=True)
            loss = model(x, y)
            loss.backward()
            opt.step()
            del loss
def walk(es):
    for e in es:
        yield e
        yield from walk(e.children)
events = list(walk(prof.profiler.kineto_results.experimental_event_tree()))
steps = {e.name: (e.start_time_ns, e.end_time_ns) for e in events if e.name.startswith("step")}
allocs = sorted((e.start_time_ns, e.extra_fields.total_allocated) for e in events if str(e.tag).endswith("Allocation"))
print(json.dumps([base + max(t for at, t in allocs if s <= at <= e) for s, e in (steps["step%d" % k] for k in range(3))]))
`;

test('training: the per-line figures sum to the measured peak, and the peak is what the allocator itself counted', async () => {
  const file = scratch('mlp.py', MLP);
  const { profile } = await profileFile({ file, ...base, settings: withDefaults({ mode: 'train', batch: 64 }), run: { ep: 'cpu', runs: 3 } });
  const m = measuredOf(profile);
  assert.equal(m.mode, 'train');
  assert.deepEqual(m.step, { source: 'memlens', optimizer: 'AdamW', loss: "the model's output", zeroGrad: 'set_to_none' });
  assert.equal(sumAtPeak(m), m.peakBytes);
  const independent = JSON.parse(execFileSync(PY, ['-c', INDEPENDENT, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as number[];
  const measured = m.steps.map((s) => s.peakBytes);
  for (let k = 0; k < 3; k++) {
    // The run's own record_function ranges and marks allocate a few bytes each.
    assert.ok(Math.abs(measured[k] - independent[k]) <= 2048, `step ${k + 1}: ${measured[k]} vs ${independent[k]}`);
  }
  // Parameters 512*1024 + 1024 + 1024*10 + 10 fp32; AdamW holds two moments each.
  const params = 512 * 1024 + 1024 + 1024 * 10 + 10;
  assert.equal(m.totals.parameterBytes, params * 4);
  assert.equal(m.totals.gradientBytes, params * 4);
  assert.equal(m.totals.optimizerStateBytes, 2 * params * 4);
  // Lines of the model's forward, backward bytes booked to the forward line whose op made them.
  const hidden = m.atPeak.lines.find((l) => l.line === lineOf(file, 'h = F.relu(self.hidden(x))'));
  assert.ok(m.atPeak.lines.every((l) => l.file === file));
  assert.ok(hidden || m.peakPhase === 'optimizer', `the forward's lines at a ${m.peakPhase} peak`);
  // Training compared with training, at the steady state (steps after the first).
  assert.ok(m.comparison);
  assert.equal(m.comparison.measuredPeakBytes, Math.max(...measured.slice(1)));
  const table = formatProfile(profile, { cwd: path.dirname(file) });
  assert.match(table, /measured in PyTorch 1\.13[^\n]* on cpu: 3 training steps/);
  assert.match(table, /measured at the peak \(PyTorch/);
});

test("a script's own training loop is measured: its steps, its optimizer, lines of the script", async () => {
  const file = scratch('loop.py', `import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(128, 256), nn.ReLU(), nn.Linear(256, 8))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for step in range(1000):
    x = torch.randn(32, 128)
    loss = model(x).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
`);
  const { profile } = await profileFile({ file, ...base, settings: withDefaults({ mode: 'train' }), given: { mode: true, batch: false, seq: false, optimizer: false }, run: { ep: 'auto', runs: 2 } });
  const m = measuredOf(profile);
  assert.equal(m.step.source, 'script');
  assert.equal(m.step.optimizer, 'SGD');
  assert.equal(m.steps.length, 2);
  assert.equal(sumAtPeak(m), m.peakBytes);
  const params = 128 * 256 + 256 + 256 * 8 + 8;
  assert.equal(m.baseline.parameters, params * 4);
  assert.equal(m.totals.optimizerStateBytes, params * 4, 'one momentum buffer per parameter');
  assert.ok(m.atPeak.lines.length > 0 && m.atPeak.lines.every((l) => l.file === file));
});

test('a run that outgrows its memory limit stops with "out of memory"; untrusted workspaces run nothing', async () => {
  const file = scratch('hog.py', `# memlens: input x = (batch, 8) float32
import torch
import torch.nn as nn


class Hog(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(x) + torch.zeros(2**28).sum()
`);
  const options = { ...base, settings: withDefaults({}), steps: 1, device: 'cpu' as const, optimizerGiven: true };
  await assert.rejects(measureTorchModel(file, { ...options, memoryLimitBytes: 256 * 2 ** 20 }), (e: unknown) => isMemlensError(e) && /^hog\.py: out of memory: the run went over its memory limit/.test(e.message));
  await assert.rejects(measureTorchModel(file, { ...options, trusted: false, memoryLimitBytes: 2 ** 30 }), (e: unknown) => isMemlensError(e) && e.message === 'hog.py: measuring a Python model runs its code; trust this workspace first (or open an exported .onnx file)');
});
