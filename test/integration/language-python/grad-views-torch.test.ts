// Parameter gradients that PyTorch keeps as views of a torch.cat's gradient (engine/memory/
// grad-views.ts), against torch 1.13 itself on CPU: tiny models written here, exported and
// analysed through the product's path (profileFile), each held to the byte against the storage
// of every `.grad` after backward (deduplicated by storage), as
// scripts/accuracy/torch-reference.py's measure_steps measures it without MemLens code.
// - a ViT's class token, `torch.cat([class_token.expand(n, -1, -1), x], 1)`: at batch 1 its
//   `.grad` is a narrow view that keeps the cat's whole gradient; at batch 2 ExpandBackward0 sums
//   into a fresh tensor the parameter's size;
// - the same model pooling instead of a class token (no cat);
// - cat along dim 0 (two parameters share one storage, no extra bytes), along dim 1 (the views
//   break the layout contract: copies), torch.stack (a select view keeps the stack's gradient),
//   and a transposed (32, 1) parameter whose view still obeys the contract.
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
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-grad-views-'));
const BATCHES = [1, 2];

/** A model file in the held-out set's form: build_model, make_batch(batch, seq), loss_fn and a training loop. */
function model(name: string, init: string, forward: string, tokens: number, features: number): string {
  const file = path.join(dir, `${name}.py`);
  const indent = (text: string, n: number) => text.split('\n').map((l) => `${' '.repeat(n)}${l}`).join('\n');
  fs.writeFileSync(file, `import torch
import torch.nn as nn
import torch.nn.functional as F


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
${indent(init, 8)}

    def forward(self, x):
${indent(forward, 8)}


def build_model():
    return Tiny()


def make_batch(batch=1, seq=None):
    return (torch.randn(batch, ${tokens}, ${features}),), torch.randint(0, 10, (batch,))


def loss_fn(out, targets):
    return F.cross_entropy(out, targets)


if __name__ == "__main__":
    model = build_model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for step in range(3):
        (x,), targets = make_batch()
        loss = loss_fn(model(x), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
`);
  return file;
}

const VIT_INIT = `self.proj = nn.Linear(48, 256)
self.pos = nn.Parameter(torch.zeros(1, 65, 256))
self.ln = nn.LayerNorm(256)
self.head = nn.Linear(256, 10)`;
const MODELS = {
  classToken: model('class_token', `${VIT_INIT}\nself.class_token = nn.Parameter(torch.zeros(1, 1, 256))`, `x = self.proj(x)
x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
return self.head(self.ln(x + self.pos)[:, 0])`, 64, 48),
  pooled: model('pooled', VIT_INIT.replace('65', '64'), 'return self.head(self.ln(self.proj(x) + self.pos).mean(1))', 64, 48),
  catForms: model('cat_forms', `self.a = nn.Parameter(torch.randn(3, 32))
self.b = nn.Parameter(torch.randn(5, 32))
self.c = nn.Parameter(torch.randn(8, 16))
self.f = nn.Parameter(torch.randn(8, 16))
self.d = nn.Parameter(torch.randn(32))
self.e = nn.Parameter(torch.randn(32, 1))
self.head = nn.Linear(16 * 5, 10)`, `h = x @ torch.cat([self.a, self.b], 0).t()
h = h @ torch.cat([self.c, self.f], 1)
s = torch.stack([self.d, x.mean((0, 1))], 0)
t = torch.cat([self.e.t(), x.mean(0)[:2]], 0)
return self.head(torch.cat([(h @ s.t()).flatten(1), (h @ t.t()).flatten(1)], 1))`, 16, 32),
};

interface Reference { gradientBytes: number; parameterBytes: number }

/** torch's figures per model and batch: the storages of every .grad after backward, and of the parameters. */
const references: Record<string, Record<string, Reference>> = JSON.parse(execFileSync(PY, ['-c', `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("ref", sys.argv[1]); ref = importlib.util.module_from_spec(spec); spec.loader.exec_module(ref)
out = {}
for name, file in json.loads(sys.argv[2]).items():
    s = importlib.util.spec_from_file_location("m_" + name, file); m = importlib.util.module_from_spec(s); s.loader.exec_module(m)
    out[name] = {}
    for batch in json.loads(sys.argv[3]):
        out[name][batch] = {"gradientBytes": ref.measure_steps(m, batch, None)["gradientBytes"], "parameterBytes": ref.counts(*ref.fresh(m, batch, None))["parameterBytes"]}
print(json.dumps(out))
`, path.join(repoRoot, 'scripts', 'accuracy', 'torch-reference.py'), JSON.stringify(MODELS), JSON.stringify(BATCHES)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Record<string, Record<string, Reference>>;

async function gradientBytes(file: string, settings: Partial<AnalysisSettings>): Promise<number> {
  const { profile } = await profileFile({
    file, trusted: true, timeoutMs: 240_000, pythonPath: PY,
    settings: withDefaults({ mode: 'train', optimizer: 'adamw', device: 'cpu', ...settings }),
  });
  return profile.totals.gradientBytes;
}

test('torch keeps the class token\'s gradient as a view of the cat\'s at batch 1 only (the reference this file holds the estimate to)', () => {
  const [one, two] = BATCHES.map((b) => references.classToken[b]);
  assert.equal(one.gradientBytes - one.parameterBytes, 64 * 256 * 4, 'the cat gradient\'s other 64 tokens of 256 fp32');
  assert.equal(two.gradientBytes, two.parameterBytes);
  assert.equal(references.pooled[1].gradientBytes, references.pooled[1].parameterBytes);
});

for (const [name, file] of Object.entries(MODELS)) {
  for (const batch of BATCHES) {
    test(`${name} at batch ${batch}: the gradients' bytes equal the storages of torch's .grad tensors`, async (t) => {
      const measured = references[name][batch].gradientBytes;
      const steady = await gradientBytes(file, { batch });
      t.diagnostic(`gradients ${steady} B, torch ${measured} B (parameters ${references[name][batch].parameterBytes} B)`);
      assert.equal(steady, measured);
      // After zero_grad(set_to_none=False) the kept .grad is the view from the step before.
      if (batch === 1) assert.equal(await gradientBytes(file, { batch, zeroGrad: 'zero' }), measured);
    });
  }
}
