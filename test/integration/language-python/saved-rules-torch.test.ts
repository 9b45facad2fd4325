// Saved-for-backward rules and the training step against PyTorch itself (Debian's torch 1.13 on
// CPU): tiny models written here, exported and analysed through the product's own path
// (profileFile), each held against the bytes torch.autograd.graph.saved_tensors_hooks sees
// (deduplicated by storage; parameters, buffers and the batch apart) and the step peaks of the
// profiler's allocation timeline, both measured by scripts/accuracy/torch-reference.py's
// measure_saved / measure_steps, which run no MemLens code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { profileFile } from '../../../extension/analysis/profile-file';
import { withDefaults, type AnalysisSettings } from '../../../extension/engine/settings';
import { repoRoot } from '../../fixtures/repo-root';

const PY = '/usr/bin/python3';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-saved-torch-'));
const BATCH = 4, SEQ = 64;

/** A model file in the held-out set's form: build_model, make_batch, loss_fn and a training loop. */
function model(name: string, init: string, forward: string, extra = ''): string {
  const file = path.join(dir, `${name}.py`);
  fs.writeFileSync(file, `import math
import torch
import torch.nn as nn
import torch.nn.functional as F
${extra}

class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
${init.split('\n').map((l) => `        ${l}`).join('\n')}

    def forward(self, x):
${forward.split('\n').map((l) => `        ${l}`).join('\n')}


def build_model():
    return Tiny()


def make_batch(batch=${BATCH}, seq=${SEQ}):
    return (torch.randn(batch, seq, 128),), torch.randint(0, 512, (batch * seq,))


def loss_fn(out, targets):
    return F.cross_entropy(out.reshape(-1, out.size(-1)), targets)


if __name__ == "__main__":
    model = build_model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for step in range(10):
        (x,), targets = make_batch()
        loss = loss_fn(model(x), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
`);
  return file;
}

const HEAD = 'self.head = nn.Linear(128, 512)';
const MODELS = {
  // derivatives.yaml gelu: self: gelu_backward(grad, self, approximate) — exported as Div/Erf/Add/Mul/Mul.
  gelu: model('gelu', `self.fc = nn.Linear(128, 256)\nself.out = nn.Linear(256, 128)\n${HEAD}`, 'return self.head(self.out(F.gelu(self.fc(x))))'),
  geluTanh: model('gelu_tanh', `self.fc = nn.Linear(128, 256)\nself.out = nn.Linear(256, 128)\n${HEAD}`, 'return self.head(self.out(F.gelu(self.fc(x), approximate="tanh")))'),
  // silu: self: silu_backward(grad, self) — exported as Sigmoid·x.
  silu: model('silu', `self.fc = nn.Linear(128, 256)\nself.out = nn.Linear(256, 128)\n${HEAD}`, 'return self.head(self.out(F.silu(self.fc(x))))'),
  // div.Scalar saves nothing; bmm saves both operands (views of q, k, v's storage); _softmax saves its result.
  attention: model('attention', `self.qkv = nn.Linear(128, 384)\nself.ln = nn.LayerNorm(128)\n${HEAD}`, `q, k, v = self.qkv(self.ln(x)).split(128, dim=2)
scores = q @ k.transpose(-2, -1) / math.sqrt(128)
return self.head(F.softmax(scores, dim=-1) @ v)`),
  // Dropout on CPU keeps float noise (input × noise); p = 0 returns its input. mean.dim keeps its input in 1.x.
  dropoutRms: model('dropout_rms', `self.fc = nn.Linear(128, 128)\nself.drop = nn.Dropout(0.1)\nself.none = nn.Dropout(0.0)\nself.g = nn.Parameter(torch.ones(128))\n${HEAD}`, `h = self.none(self.drop(self.fc(x)))
h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-6) * self.g
return self.head(h)`),
  // Llama's pieces: rsqrt (exported as Div(1, Sqrt)) keeps only its result (rsqrt: self: -0.5 *
  // grad * result.pow(3)); `.to(dtype)` to its own dtype and dropout at p = 0 return their input,
  // so the matmul after them keeps the softmax's own result, not a copy.
  llamaParts: model('llama_parts', `self.fc = nn.Linear(128, 128)\nself.q = nn.Linear(128, 128)\nself.k = nn.Linear(128, 128)\nself.g = nn.Parameter(torch.ones(128))\n${HEAD}`, `h = self.fc(x)
h = self.g * (h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-6))
q, k = self.q(h), self.k(h)
w = F.softmax(q @ k.transpose(-2, -1), dim=-1, dtype=torch.float32).to(q.dtype)
w = F.dropout(w, p=0.0, training=self.training)
return self.head(w @ h)`),
};

/** Models whose every saved tensor has a rule here: held to the byte count, not the 0.5% band. */
const EXACT = new Set(['llamaParts']);

interface Reference { saved: { activationBytes: number }; train: Record<'firstStep' | 'steadySetToNone' | 'steadyZeroFill', { peakBytes: number }> }

const references: Record<string, Reference> = JSON.parse(execFileSync(PY, ['-c', `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("ref", sys.argv[1]); ref = importlib.util.module_from_spec(spec); spec.loader.exec_module(ref)
out = {}
for name, file in json.loads(sys.argv[2]).items():
    s = importlib.util.spec_from_file_location("m_" + name, file); m = importlib.util.module_from_spec(s); s.loader.exec_module(m)
    out[name] = {"saved": ref.measure_saved(m, ${BATCH}, ${SEQ}), "train": ref.measure_steps(m, ${BATCH}, ${SEQ})}
print(json.dumps(out))
`, path.join(repoRoot, 'scripts', 'accuracy', 'torch-reference.py'), JSON.stringify(MODELS)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Record<string, Reference>;

async function estimate(file: string, settings: Partial<AnalysisSettings> = {}) {
  const { profile } = await profileFile({
    file, trusted: true, timeoutMs: 240_000, pythonPath: PY,
    settings: withDefaults({ mode: 'train', batch: BATCH, seq: SEQ, optimizer: 'adamw', device: 'cpu', ...settings }),
  });
  return profile;
}

/** |estimate - measured| / measured, in percent. */
const off = (estimated: number, measured: number) => (100 * Math.abs(estimated - measured)) / measured;

for (const [name, file] of Object.entries(MODELS)) {
  test(`${name}: saved for backward equals the saved-tensor hooks' bytes; the three step peaks equal the profiler's`, async (t) => {
    const ref = references[name];
    const steady = await estimate(file);
    const saved = steady.totals.savedActivationBytes;
    t.diagnostic(`saved ${saved} B, torch ${ref.saved.activationBytes} B`);
    if (EXACT.has(name)) assert.equal(saved, ref.saved.activationBytes);
    else assert.ok(off(saved, ref.saved.activationBytes) < 0.5, `saved ${saved} vs torch ${ref.saved.activationBytes}`);
    assert.deepEqual(steady.warnings.filter((w) => w.includes('saved-for-backward')), []);
    const first = await estimate(file, { step: 'first' });
    const zero = await estimate(file, { zeroGrad: 'zero' });
    for (const [label, p, measured] of [['first', first, ref.train.firstStep], ['steady', steady, ref.train.steadySetToNone], ['zero', zero, ref.train.steadyZeroFill]] as const) {
      t.diagnostic(`${label} step peak ${p.peak.bytes} B, torch ${measured.peakBytes} B`);
      assert.ok(off(p.peak.bytes, measured.peakBytes) < 3, `${label} step peak ${p.peak.bytes} vs torch ${measured.peakBytes}`);
    }
  });
}
