// The rewritten samples still run under real PyTorch and compute the same values.
// (scaled_dot_product_attention needs torch >= 2.0; Debian's torch 1.13 here cannot run it.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { rewriteText } from '../../../language/python/rewrites';
import type { RewriteKind } from '../../../language/python/rewrites';

const samples = path.resolve(__dirname, '../../../../samples/python');

async function rewriteSample(kind: RewriteKind, name: string, needle: string): Promise<string> {
  const text = fs.readFileSync(path.join(samples, name), 'utf8');
  const line = text.split('\n').findIndex((l) => l.includes(needle)) + 1;
  const out = await rewriteText(kind, text, line);
  assert.notEqual(out, text, `${kind} changed ${name}`);
  return out;
}

test('checkpointed blocks, chunked loss, offloaded step, int8 Linear and bf16 autocast run with the same results', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-rewrites-'));
  fs.copyFileSync(path.join(samples, 'gpt_decoder.py'), path.join(dir, 'gpt_decoder.py'));
  fs.writeFileSync(path.join(dir, 'gpt_ckpt.py'), await rewriteSample('checkpoint', 'gpt_decoder.py', 'for block in self.blocks'));
  fs.writeFileSync(path.join(dir, 'gpt_bf16.py'), await rewriteSample('autocast-bf16', 'gpt_decoder.py', 'def forward(self, idx)'));
  fs.writeFileSync(path.join(dir, 'train_chunked.py'), await rewriteSample('chunked-cross-entropy', 'train_gpt.py', 'loss = F.cross_entropy'));
  fs.writeFileSync(path.join(dir, 'train_offload.py'), await rewriteSample('offload-activations', 'train_gpt.py', 'loss = model(idx, targets)'));
  fs.writeFileSync(path.join(dir, 'resnet_int8.py'), await rewriteSample('quantize-dynamic', 'resnet_script.py', 'return resnet18(weights=None)'));
  fs.writeFileSync(path.join(dir, 'check.py'), [
    'import json, torch',
    'import torch.nn.functional as F',
    'import gpt_decoder, gpt_ckpt, gpt_bf16, train_chunked, train_offload, resnet_int8',
    'torch.manual_seed(0)',
    'r = {}',
    'base = gpt_decoder.GPT(); ck = gpt_ckpt.GPT(); ck.load_state_dict(base.state_dict())',
    'idx = torch.randint(0, 4096, (2, 16))',
    'a = base(idx); b = ck(idx)',
    'a.square().mean().backward(); b.square().mean().backward()',
    'r["ckpt_forward_equal"] = torch.equal(a, b)',
    'r["ckpt_grads_equal"] = all(torch.allclose(p.grad, q.grad) for p, q in zip(base.parameters(), ck.parameters()))',
    'bf = gpt_bf16.GPT(); bf.load_state_dict(base.state_dict())',
    'r["bf16_dtype"] = str(bf(idx).dtype)',
    'logits = torch.randn(37, 4096, requires_grad=True); t = torch.randint(0, 4096, (37,)); t[:5] = -100',
    'ref = F.cross_entropy(logits, t); got = train_chunked.chunked_cross_entropy(logits, t, chunk_size=8)',
    'g1, = torch.autograd.grad(ref, logits); g2, = torch.autograd.grad(got, logits)',
    'r["chunked_loss_diff"] = abs(ref.item() - got.item()); r["chunked_grad_close"] = torch.allclose(g1, g2, atol=1e-7)',
    'm = train_offload.build_training_model()',
    'r["offload_loss"] = train_offload.train_step(m, torch.optim.SGD(m.parameters(), lr=0.0), idx, idx)',
    'q = resnet_int8.build_model().eval()',
    'r["int8_fc"] = type(q.fc).__module__ + "." + type(q.fc).__name__',
    'with torch.no_grad(): r["int8_out"] = list(q(torch.randn(1, 3, 64, 64)).shape)',
    'print(json.dumps(r))',
  ].join('\n'));
  const out = execFileSync('/usr/bin/python3', ['check.py'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
  assert.equal(r.ckpt_forward_equal, true);
  assert.equal(r.ckpt_grads_equal, true);
  assert.equal(r.bf16_dtype, 'torch.bfloat16', 'the LM head runs in bf16 under autocast');
  assert.ok((r.chunked_loss_diff as number) < 1e-5, `chunked loss differs by ${String(r.chunked_loss_diff)}`);
  assert.equal(r.chunked_grad_close, true);
  assert.ok(Number.isFinite(r.offload_loss));
  assert.equal(r.int8_fc, 'torch.ao.nn.quantized.dynamic.modules.linear.Linear');
  assert.deepEqual(r.int8_out, [1, 1000]);
});
