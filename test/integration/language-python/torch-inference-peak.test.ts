// The inference peak of a PyTorch model is estimated as eager PyTorch on CPU runs it, and held
// against PyTorch's own measurement of the same model (`--run`: the profiler's allocation events
// under torch.inference_mode(), bridge/measure_torch.py), not against an earlier estimate:
// - views of weights are free (a Linear on a 3-D input exports as MatMul(x, Transpose(W)));
// - F.gelu / nn.SiLU exported as several nodes run as one kernel (no intermediates), and an
//   in-place activation takes its input's buffer;
// - aten::mkldnn_convolution holds oneDNN's blocked copies while it runs;
// - a module's argument lives until the module returns (the caller's frame holds it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { profileFile } from '../../../extension/analysis/profile-file';
import { isTorchMeasured } from '../../../extension/engine/measured-torch';
import { withDefaults } from '../../../extension/engine/settings';

const base = { trusted: true, timeoutMs: 240_000, pythonPath: '/usr/bin/python3' };

function scratch(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-torch-infer-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const CNN = `# memlens: input x = (batch, 3, 64, 64) float32
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, c, hidden):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(c, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.SiLU(inplace=True),
            nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, c, 1, bias=False), nn.BatchNorm2d(c),
        )

    def forward(self, x):
        return x + self.block(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 24, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(24), nn.SiLU(inplace=True))
        self.blocks = nn.Sequential(Block(24, 96), Block(24, 96))
        self.head = nn.Linear(24, 10)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.head(x.mean((2, 3)))
`;

const ENCODER = `# memlens: input x = (batch, 64, 128) float32
import torch.nn as nn
import torch.nn.functional as F


class Layer(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.up = nn.Linear(d, 4 * d)
        self.down = nn.Linear(4 * d, d)

    def forward(self, x):
        return x + self.down(F.gelu(self.up(self.norm(x))))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(*[Layer(128) for _ in range(3)])
        self.out = nn.Linear(128, 256)

    def forward(self, x):
        return self.out(self.layers(x))
`;

for (const [name, text, batch] of [['cnn.py', CNN, 4], ['encoder.py', ENCODER, 8]] as const) {
  test(`${name}: the inference peak on CPU is PyTorch's measured peak`, async () => {
    const file = scratch(name, text);
    const { profile } = await profileFile({ file, ...base, settings: withDefaults({ batch, device: 'cpu' }), run: { ep: 'cpu', runs: 2 } });
    assert.ok(isTorchMeasured(profile.measured), 'a PyTorch measurement');
    const measured = profile.measured.peakBytes;
    const error = Math.abs(profile.peak.bytes - measured) / measured;
    // The run's record_function ranges allocate a few bytes; no rule may leave more than 1%.
    assert.ok(error < 0.01, `estimated ${profile.peak.bytes} B vs measured ${measured} B (${(100 * error).toFixed(2)}%)`);
  });
}
