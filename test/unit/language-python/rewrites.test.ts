// Fixture tests: input text and target line -> the exact rewritten text; a second pass changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PYTHON_REWRITES, checkpointLayers } from '../../../language/python/rewrites';
import { applyEdits } from '../../../language/python/text-edits';
import type { RewriteKind } from '../../../language/python/rewrites';

const src = (...lines: string[]) => lines.join('\n');

async function check(kind: RewriteKind, input: string, needle: string, expected: string, description?: RegExp): Promise<void> {
  const line = input.split('\n').findIndex((l) => l.includes(needle)) + 1;
  assert.ok(line > 0, `"${needle}" is in the input`);
  const r = await PYTHON_REWRITES[kind](input, line);
  assert.ok(r, `${kind} applies at line ${line}`);
  if (description) assert.match(r.description, description);
  const out = applyEdits(input, r.edits);
  assert.equal(out, expected);
  // Idempotent: at the target and at every line the edit wrote, the rewrite finds nothing more to do.
  const before = new Set(input.split('\n'));
  const outLines = out.split('\n');
  const again = outLines.flatMap((l, i) => (!before.has(l) || l.includes(needle) ? [i + 1] : []));
  assert.ok(again.length > 0);
  for (const l of again) assert.equal(await PYTHON_REWRITES[kind](out, l), null, `${kind} applies again at line ${l}`);
}

const BLOCKS = src(
  'import torch',
  'import torch.nn as nn',
  '',
  '',
  'class Net(nn.Module):',
  '    def forward(self, x):',
  '        for blk in self.blocks:',
  '            x = blk(x)',
  '        x = x + self.attn(self.ln(x), mask=None)',
  '        return self.head(x)',
  '',
);

test('checkpoint: a layer loop', async () => {
  await check('checkpoint', BLOCKS, 'for blk in self.blocks', src(
    'import torch',
    'import torch.nn as nn',
    'import torch.utils.checkpoint',
    '',
    '',
    'class Net(nn.Module):',
    '    def forward(self, x):',
    '        for blk in self.blocks:',
    '            x = torch.utils.checkpoint.checkpoint(blk, x, use_reentrant=False)',
    '        x = x + self.attn(self.ln(x), mask=None)',
    '        return self.head(x)',
    '',
  ), /use_reentrant=False/);
});

test('checkpoint: the outermost block call of a statement, keyword arguments kept', async () => {
  const out = await PYTHON_REWRITES.checkpoint(BLOCKS, 9);
  assert.ok(out);
  assert.equal(applyEdits(BLOCKS, out.edits).split('\n')[9], '        x = x + torch.utils.checkpoint.checkpoint(self.attn, self.ln(x), mask=None, use_reentrant=False)');
  assert.equal(await PYTHON_REWRITES.checkpoint(BLOCKS, 5), null, 'a class line has no block call');
});

test('checkpoint: a helper method call is not a module call', async () => {
  const text = src('import torch', 'class M(torch.nn.Module):', '    def forward(self, x):', '        return self._impl(x)', '', '    def _impl(self, x):', '        return x', '');
  assert.equal(await PYTHON_REWRITES.checkpoint(text, 4), null);
});

const STEP = src(
  '"""Training."""',
  'import torch',
  '',
  '',
  'def train_step(model, batch, opt):',
  '    loss = model(batch)',
  '    loss.backward()',
  '    opt.step()',
  '',
);

test('offload-activations: the forward of a training step in save_on_cpu', async () => {
  await check('offload-activations', STEP, 'loss = model(batch)', src(
    '"""Training."""',
    'import torch',
    '',
    '',
    'def train_step(model, batch, opt):',
    '    with torch.autograd.graph.save_on_cpu(pin_memory=True):',
    '        loss = model(batch)',
    '    loss.backward()',
    '    opt.step()',
    '',
  ), /pinned CPU memory/);
});

test('autocast-bf16: a whole forward body, docstring kept outside, import added', async () => {
  const text = src(
    'from torch import nn',
    '',
    'class M(nn.Module):',
    '    def forward(self, x):',
    '        """Doc."""',
    '        h = self.a(x)',
    '',
    '        return self.b(h)',
    '',
  );
  await check('autocast-bf16', text, 'def forward', src(
    'from torch import nn',
    'import torch',
    '',
    'class M(nn.Module):',
    '    def forward(self, x):',
    '        """Doc."""',
    '        with torch.autocast(device_type="cuda" if torch.cuda.is_available() else "cpu", dtype=torch.bfloat16):',
    '            h = self.a(x)',
    '',
    '            return self.b(h)',
    '',
  ), /bf16/);
});

const ATTENTION = src(
  'import math',
  'import torch',
  'import torch.nn as nn',
  '',
  'class Attn(nn.Module):',
  '    def __init__(self, n):',
  '        super().__init__()',
  '        self.register_buffer("bias", torch.tril(torch.ones(n, n)).view(1, 1, n, n))',
  '',
  '    def forward(self, q, k, v):',
  '        T = q.size(-2)',
  '        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))',
  '        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))',
  '        att = torch.softmax(att, dim=-1)',
  '        y = att @ v',
  '        return y',
  '',
);

test('sdpa: softmax(QK^T)V statements with a causal tril mask become is_causal=True', async () => {
  await check('sdpa', ATTENTION, 'att = torch.softmax', src(
    'import math',
    'import torch',
    'import torch.nn as nn',
    'import torch.nn.functional as F',
    '',
    'class Attn(nn.Module):',
    '    def __init__(self, n):',
    '        super().__init__()',
    '        self.register_buffer("bias", torch.tril(torch.ones(n, n)).view(1, 1, n, n))',
    '',
    '    def forward(self, q, k, v):',
    '        T = q.size(-2)',
    '        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=(1.0 / math.sqrt(k.size(-1))))',
    '        return y',
    '',
  ), /is_causal=True/);
});

test('sdpa: one expression with the default scale, the file\'s functional alias', async () => {
  const text = src(
    'import math',
    'from torch.nn import functional as fn',
    '',
    'def attend(q, k, v, d):',
    '    return fn.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), dim=-1) @ v',
    '',
  );
  await check('sdpa', text, 'return fn.softmax', src(
    'import math',
    'from torch.nn import functional as fn',
    '',
    'def attend(q, k, v, d):',
    '    return fn.scaled_dot_product_attention(q, k, v)',
    '',
  ));
});

test('sdpa: a non-causal mask becomes attn_mask (True where attention is allowed)', async () => {
  const text = src(
    'import torch.nn.functional as F',
    '',
    'def attend(q, k, v, pad):',
    '    s = q @ k.transpose(-2, -1)',
    '    s = s.masked_fill(pad, float("-inf"))',
    '    p = F.softmax(s, dim=-1)',
    '    out = p @ v',
    '    return out',
    '',
  );
  await check('sdpa', text, 'p = F.softmax', src(
    'import torch.nn.functional as F',
    '',
    'def attend(q, k, v, pad):',
    '    out = F.scaled_dot_product_attention(q, k, v, attn_mask=~(pad), scale=1.0)',
    '    return out',
    '',
  ));
});

test('quantize-dynamic: after a model assignment, or around a returned model', async () => {
  const text = src(
    'import torch',
    '',
    'def build():',
    '    return Net()',
    '',
    'if __name__ == "__main__":',
    '    model = build().eval()',
    '    print(model)',
    '',
  );
  await check('quantize-dynamic', text, 'model = build()', src(
    'import torch',
    '',
    'def build():',
    '    return Net()',
    '',
    'if __name__ == "__main__":',
    '    model = build().eval()',
    '    model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)',
    '    print(model)',
    '',
  ), /int8/);
  await check('quantize-dynamic', text, 'return Net()', src(
    'import torch',
    '',
    'def build():',
    '    return torch.ao.quantization.quantize_dynamic(Net(), {torch.nn.Linear}, dtype=torch.qint8)',
    '',
    'if __name__ == "__main__":',
    '    model = build().eval()',
    '    print(model)',
    '',
  ));
});

test('chunked-cross-entropy: helper added once before the first definition, call replaced', async () => {
  const text = src(
    'import torch.nn.functional as F',
    '',
    '',
    'def loss_fn(logits, targets):',
    '    return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))',
    '',
  );
  await check('chunked-cross-entropy', text, 'return F.cross_entropy', src(
    'import torch.nn.functional as F',
    'import torch',
    'import torch.utils.checkpoint',
    '',
    '',
    'def chunked_cross_entropy(logits, targets, chunk_size=4096, ignore_index=-100):',
    '    """Mean cross-entropy computed over row chunks; each chunk\'s log-softmax is recomputed in',
    '    backward instead of kept, so the loss holds no extra (rows x vocabulary) tensor."""',
    '    logits = logits.reshape(-1, logits.size(-1))',
    '    targets = targets.reshape(-1)',
    '    total = logits.new_zeros((), dtype=torch.float32)',
    '    for start in range(0, logits.size(0), chunk_size):',
    '        total = total + torch.utils.checkpoint.checkpoint(',
    '            F.cross_entropy, logits[start:start + chunk_size].float(), targets[start:start + chunk_size],',
    '            reduction="sum", ignore_index=ignore_index, use_reentrant=False)',
    '    return total / (targets != ignore_index).sum().clamp(min=1)',
    '',
    '',
    'def loss_fn(logits, targets):',
    '    return chunked_cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))',
    '',
  ));
  const weighted = text.replace('targets.view(-1))', 'targets.view(-1), label_smoothing=0.1)');
  assert.equal(await PYTHON_REWRITES['chunked-cross-entropy'](weighted, 5), null, 'other reductions or options would change the value');
});

async function checkLayers(input: string, needle: string, layers: number[], expected: string | null): Promise<void> {
  const line = input.split('\n').findIndex((l) => l.includes(needle)) + 1;
  assert.ok(line > 0, `"${needle}" is in the input`);
  const r = await checkpointLayers(input, line, layers);
  if (expected === null) return assert.equal(r, null);
  assert.ok(r, `checkpointLayers applies at line ${line}`);
  const out = applyEdits(input, r.edits);
  assert.equal(out, expected);
  // Neither form applies again to a loop that already checkpoints some of its layers.
  const loopLine = out.split('\n').findIndex((l) => /^\s*for /.test(l)) + 1;
  assert.equal(await checkpointLayers(out, loopLine, layers), null);
  assert.equal(await PYTHON_REWRITES.checkpoint(out, loopLine), null);
}

const layerLoop = (header: string, body: string) => src(
  'import torch',
  '',
  '',
  'class Net(nn.Module):',
  '    def forward(self, x):',
  `        ${header}`,
  `            ${body}`,
  '        return x',
  '',
);

test('checkpoint some layers: the loop gains an index through enumerate; a prefix is `i < k`', async () => {
  await checkLayers(layerLoop('for blk in self.blocks:', 'x = blk(x)'), 'for blk', [1, 0, 2], src(
    'import torch',
    'import torch.utils.checkpoint',
    '',
    '',
    'class Net(nn.Module):',
    '    def forward(self, x):',
    '        for i, blk in enumerate(self.blocks):',
    '            x = torch.utils.checkpoint.checkpoint(blk, x, use_reentrant=False) if i < 3 else blk(x)',
    '        return x',
    '',
  ));
});

test('checkpoint some layers: an existing enumerate index, a range, or a list; a nested call is parenthesised', async () => {
  const out = (header: string, body: string) => layerLoop(header, body).replace('import torch\n', 'import torch\nimport torch.utils.checkpoint\n');
  await checkLayers(layerLoop('for n, blk in enumerate(self.layers):', 'x = x + blk(x, mask)'), 'for n', [2, 3, 4],
    out('for n, blk in enumerate(self.layers):', 'x = x + (torch.utils.checkpoint.checkpoint(blk, x, mask, use_reentrant=False) if 2 <= n <= 4 else blk(x, mask))'));
  await checkLayers(layerLoop('for k in range(len(self.h)):', 'x = self.h[k](x)'), 'for k', [0, 5],
    out('for k in range(len(self.h)):', 'x = torch.utils.checkpoint.checkpoint(self.h[k], x, use_reentrant=False) if k in (0, 5) else self.h[k](x)'));
  // `i` is taken in the body: another index name.
  await checkLayers(layerLoop('for blk in self.blocks:', 'x = blk(x) * i'), 'for blk', [0],
    out('for layer_index, blk in enumerate(self.blocks):', 'x = (torch.utils.checkpoint.checkpoint(blk, x, use_reentrant=False) if layer_index < 1 else blk(x)) * i'));
});

test('checkpoint some layers: loops it cannot index are left alone', async () => {
  await checkLayers(layerLoop('for blk in reversed(self.blocks):', 'x = blk(x)'), 'for blk', [0], null);
  await checkLayers(layerLoop('for blk in self.blocks:', 'x = torch.relu(x)'), 'for blk', [0], null);
});
