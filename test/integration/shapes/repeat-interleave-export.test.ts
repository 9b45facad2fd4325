// Grouped-query attention repeats its key/value heads with `repeat_interleave(r, dim=1)`. Where
// the exporter cannot see the sizes (a layer fed by one whose output was reshaped to (b, t, -1)
// after a rotary embedding's chunk and cat), torch 1.13's own opset-13 symbolic writes a wrong
// reshape target and the graph fails on ONNX Runtime itself at the attention MatMul. Through MemLens's export bridge, the exported graph runs on ONNX
// Runtime, every tensor's inferred shape matches ONNX Runtime's, and the logits have torch's shape.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exportPythonModel } from '../../../language/python/export';
import { withDefaults } from '../../../extension/engine/settings';
import { bindDims } from '../../../extension/engine/shapes/bind-dims';
import { inferShapes } from '../../../extension/engine/shapes/infer';
import { disagreements } from './ort-probe';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-gqa-'));
const VOCAB = 97;

const GQA = `import torch
import torch.nn as nn

HEADS, KV_HEADS, WIDTH, CONTEXT = 4, 2, 32, 64


class Rotary(nn.Module):
    def __init__(self, d):
        super().__init__()
        angles = torch.outer(torch.arange(CONTEXT).float(), torch.arange(d).float() / d)
        self.register_buffer("cos", angles.cos(), persistent=False)

    def forward(self, q):
        q1, q2 = q.chunk(2, dim=-1)
        return q * self.cos[: q.shape[-2]] + torch.cat((-q2, q1), dim=-1)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.d = WIDTH // HEADS
        self.q = nn.Linear(WIDTH, WIDTH, bias=False)
        self.kv = nn.Linear(WIDTH, 2 * KV_HEADS * self.d, bias=False)
        self.rotary = Rotary(self.d)

    def forward(self, x):
        b, t, _ = x.shape
        q = self.rotary(self.q(x).view(b, t, HEADS, self.d).transpose(1, 2))
        k, v = self.kv(x).view(b, t, 2 * KV_HEADS, self.d).transpose(1, 2).chunk(2, dim=1)
        k = self.rotary(k).repeat_interleave(HEADS // KV_HEADS, dim=1)
        v = v.repeat_interleave(HEADS // KV_HEADS, dim=-3)
        w = torch.softmax(q @ k.transpose(2, 3), dim=-1)
        return x + (w @ v).transpose(1, 2).reshape(b, t, -1)


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(${VOCAB}, WIDTH)
        self.layers = nn.ModuleList([Attention() for _ in range(2)])
        self.head = nn.Linear(WIDTH, ${VOCAB}, bias=False)

    def forward(self, ids):
        x = self.embed(ids)
        for layer in self.layers:
            x = layer(x)
        return self.head(x)


model = Decoder()
logits = model(torch.randint(0, ${VOCAB}, (3, 16)))
`;

test('repeat_interleave of key/value heads (GQA): the exported graph runs on ONNX Runtime and every shape matches it', async () => {
  const file = path.join(dir, 'gqa.py');
  fs.writeFileSync(file, GQA);
  const { model } = await exportPythonModel(file, { trusted: true, timeoutMs: 180_000, cacheDir: dir, pythonPath: '/usr/bin/python3', settings: withDefaults({ mode: 'infer' }), given: { batch: false, seq: false } });
  assert.ok(model.graph.nodes.some((n) => n.opType === 'Expand'), 'repeat_interleave is exported as Unsqueeze/Expand/Reshape');
  const bound = bindDims(model, withDefaults({}));
  const r = inferShapes(model, bound.dims);
  const logits = model.graph.outputs[0].name;
  // The script's own call: 3 sequences of 16 tokens, logits over the vocabulary.
  assert.deepEqual(r.tensors.get(logits)?.shape, [3, 16, VOCAB]);
  const input = model.graph.inputs[0];
  const c = await disagreements(model, bound.dims, { [input.name]: { dtype: input.dtype, shape: [3, 16], values: Array.from({ length: 48 }, (_v, k) => k % VOCAB) } });
  assert.deepEqual(c.mismatches, []);
  assert.ok(c.compared > 50, `${c.compared} tensors compared`);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));
