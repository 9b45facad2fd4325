// Checkpoint and offload rewrites change the profile: the bridge records which module calls ran
// inside torch.utils.checkpoint.checkpoint / save_on_cpu during the real export (Debian's torch
// 1.13 under /usr/bin/python3), the nodes carry the region ids, and the real engine uses them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { exportPythonModel } from '../../../language/python/export';
import type { ExportResult } from '../../../language/python/export';
import { rewriteText } from '../../../language/python/rewrites';
import { analyze, analyzeModel } from '../../../extension/engine/analyze';
import { withDefaults } from '../../../extension/engine/settings';
import type { Profile } from '../../../extension/engine/profile';
import { CHECKPOINT_KEY, MEMLENS_SCOPE, OFFLOAD_KEY } from '../../../extension/engine/metadata-keys';

const samples = path.resolve(__dirname, '../../../../samples/python');
const bridge = path.resolve(__dirname, '../../../../language/python/bridge');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-regions-'));
const cacheDir = path.join(root, 'cache');
// On CPU the AdamW update is single-tensor (two temporaries of the largest parameter): the peak stays in
// backward, where checkpointing acts; foreach (CUDA's default) would put it at the update for every variant.
const settings = withDefaults({ mode: 'train', batch: 4, seq: 128, device: 'cpu' });
const PY = '/usr/bin/python3';

type Variant = 'base' | 'checkpoint' | 'offload-activations';

/** train_gpt.py next to gpt_decoder.py, the decoder's layer loop rewritten (or not). */
async function sampleDir(variant: Variant): Promise<string> {
  const dir = path.join(root, variant);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(samples, 'train_gpt.py'), path.join(dir, 'train_gpt.py'));
  const text = fs.readFileSync(path.join(samples, 'gpt_decoder.py'), 'utf8');
  const line = text.split('\n').findIndex((l) => l.includes('for block in self.blocks')) + 1;
  const out = variant === 'base' ? text : await rewriteText(variant, text, line);
  if (variant !== 'base') assert.notEqual(out, text, `${variant} applies to the layer loop`);
  fs.writeFileSync(path.join(dir, 'gpt_decoder.py'), out);
  return dir;
}

interface Run {
  dir: string;
  result: ExportResult;
  profile: Profile;
  /** Activation bytes on the device when the forward ends: what is kept for backward, and the loss. */
  endOfForward: number;
}

const runs = new Map<Variant, Promise<Run>>();
function run(variant: Variant): Promise<Run> {
  let r = runs.get(variant);
  if (!r) {
    r = (async () => {
      const dir = await sampleDir(variant);
      // One cache for all variants: train_gpt.py has the same text in each, only its path (and the
      // decoder it imports) differs, so a cache keyed by text alone would hand back the base export.
      const result = await exportPythonModel(path.join(dir, 'train_gpt.py'), { trusted: true, timeoutMs: 180_000, cacheDir, pythonPath: PY, settings });
      const profile = analyzeModel(result.model, settings, { source: 'train_gpt.py', entry: result.entry });
      const lastForward = profile.timeline.filter((t) => t.phase === 'forward').at(-1);
      assert.ok(lastForward);
      return { dir, result, profile, endOfForward: lastForward.byCategory.activations };
    })();
    runs.set(variant, r);
  }
  return r;
}

const blockOf = (scope: string | undefined) => /^gpt\.blocks\.(\d+)(\.|$)/.exec(scope ?? '')?.[1];

test('checkpointed layer loop: every block node carries its region and the training peak drops', async () => {
  const base = await run('base');
  const ckpt = await run('checkpoint');
  assert.ok(base.result.model.graph.nodes.every((n) => n.metadata[CHECKPOINT_KEY] === undefined && n.metadata[OFFLOAD_KEY] === undefined));

  const nodes = ckpt.result.model.graph.nodes;
  const inBlocks = nodes.filter((n) => blockOf(n.metadata[MEMLENS_SCOPE]) !== undefined);
  assert.ok(inBlocks.length > 200, `${inBlocks.length} block nodes`);
  for (const n of nodes) {
    const block = blockOf(n.metadata[MEMLENS_SCOPE]);
    // One region per checkpoint call: the loop calls it once per block, in order.
    assert.equal(n.metadata[CHECKPOINT_KEY], block === undefined ? undefined : `checkpoint:${block}`, n.name);
    assert.equal(n.metadata[OFFLOAD_KEY], undefined);
  }
  // Ops written in Block.forward itself (the residual adds) have the checkpointed module as scope.
  assert.equal(nodes.find((n) => n.name === '/gpt/blocks.2/Add_1')?.metadata[CHECKPOINT_KEY], 'checkpoint:2');
  assert.equal(nodes.find((n) => n.name === '/gpt/blocks.0/attn/Softmax')?.metadata[CHECKPOINT_KEY], 'checkpoint:0');
  assert.equal(nodes.find((n) => n.name === '/gpt/lm_head/MatMul')?.metadata[CHECKPOINT_KEY], undefined);

  // Same graph otherwise: same weights, optimizer state and parameter count.
  assert.equal(ckpt.result.model.graph.nodes.length, base.result.model.graph.nodes.length);
  assert.equal(ckpt.profile.totals.weightBytes, base.profile.totals.weightBytes);
  assert.equal(ckpt.profile.totals.optimizerStateBytes, base.profile.totals.optimizerStateBytes);

  // Measured on this export (batch 4, seq 128, AdamW fp32 on CPU): peak 119,619,400 -> 93,620,036 bytes;
  // activations live when the forward ends 55,676,928 -> 19,927,040 (each block keeps only its input).
  assert.ok(ckpt.profile.peak.bytes < 0.8 * base.profile.peak.bytes, `peak ${base.profile.peak.bytes} -> ${ckpt.profile.peak.bytes}`);
  assert.ok(ckpt.endOfForward < 0.4 * base.endOfForward, `end-of-forward activations ${base.endOfForward} -> ${ckpt.endOfForward}`);
  // savedActivationBytes 85,041,152 -> 82,944,000: the total also counts what a region recomputes
  // for its backward, so only the saved views the model folds into their base drop out of it.
  assert.ok(ckpt.profile.totals.savedActivationBytes < base.profile.totals.savedActivationBytes,
    `saved ${base.profile.totals.savedActivationBytes} -> ${ckpt.profile.totals.savedActivationBytes}`);
  // The peak was at the loss's backward; now it is the update (weights, gradients, AdamW state and
  // its temporaries), and the highest backward step is a block's recomputation, at the first block's backward.
  assert.equal(base.profile.peak.node, '/SoftmaxCrossEntropyLoss');
  assert.equal(ckpt.profile.peak.phase, 'optimizer');
  const backward = ckpt.profile.timeline.filter((t) => t.phase === 'backward').reduce((a, b) => (b.liveBytes > a.liveBytes ? b : a));
  assert.equal(nodes.find((n) => n.name === backward.node)?.metadata[CHECKPOINT_KEY], 'checkpoint:0', backward.node);
});

test('offloaded layer loop: block nodes carry one offload region, their saved tensors wait on the host', async () => {
  const base = await run('base');
  const off = await run('offload-activations');
  const nodes = off.result.model.graph.nodes;
  for (const n of nodes) {
    const block = blockOf(n.metadata[MEMLENS_SCOPE]);
    assert.equal(n.metadata[OFFLOAD_KEY], block === undefined ? undefined : 'offload:0', n.name);
    assert.equal(n.metadata[CHECKPOINT_KEY], undefined);
  }
  // The memory model moves the saved tensors of the region off the device until backward.
  const a = analyze(off.result.model, settings, 'train_gpt.py');
  const fetched = a.buffers.buffers.flatMap((b) => (b.kind === 'restored' && b.how === 'fetched' && b.of.kind === 'tensor' ? [b.of.tensor] : []));
  // 9 per block, 4 blocks: LayerNorm 1's output, the qkv projection (torch saves the q, k and v
  // copies matmul makes of its views: the same bytes), softmax's result, the attention output, the
  // residual sum, LayerNorm 2's output, fc's output (GELU keeps its input only), GELU's output and
  // the block's output. torch's saved_tensors_hooks on one block find these plus LayerNorm's
  // mean/rstd, masked_fill's bool mask and the 0-dim divisor, which the model keeps as extras.
  assert.equal(fetched.length, 36, `${fetched.length} tensors fetched back`);
  for (const name of fetched) {
    const producer = a.table.nodes[a.table.tensors.get(name)?.producer ?? -1];
    assert.ok(producer && blockOf(producer.metadata[MEMLENS_SCOPE]) !== undefined, `${name} is produced in a block`);
  }
  // Measured on CPU: peak 119,619,400 -> 93,620,036 bytes.
  assert.ok(off.profile.peak.bytes < 0.8 * base.profile.peak.bytes, `peak ${base.profile.peak.bytes} -> ${off.profile.peak.bytes}`);
  assert.ok(off.endOfForward < 0.4 * base.endOfForward, `end-of-forward activations ${base.endOfForward} -> ${off.endOfForward}`);
  assert.ok(off.profile.totals.savedActivationBytes < base.profile.totals.savedActivationBytes, `saved ${base.profile.totals.savedActivationBytes} -> ${off.profile.totals.savedActivationBytes}`);
});

test('the rewritten decoders still train: one AdamW step of train_gpt gives the same loss and weights', async () => {
  const dirs = await Promise.all((['base', 'checkpoint', 'offload-activations'] as const).map(sampleDir));
  const script = [
    'import json, sys, torch',
    'import train_gpt',
    'torch.manual_seed(0)',
    'model = train_gpt.build_training_model()',
    'opt = torch.optim.AdamW(model.parameters(), lr=1e-3)',
    'idx = torch.randint(0, 4096, (2, 32)); targets = torch.randint(0, 4096, (2, 32))',
    'losses = [train_gpt.train_step(model, opt, idx, targets) for _ in range(2)]',
    'print(json.dumps({"losses": losses, "weight": model.gpt.blocks[1].mlp.fc.weight[:2, :4].tolist()}))',
  ].join('\n');
  const results = dirs.map((dir) => JSON.parse(execFileSync(PY, ['-c', script], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop() ?? '{}') as { losses: number[]; weight: number[][] });
  const [base, ...rewritten] = results;
  assert.ok(base.losses.every(Number.isFinite) && base.losses[1] < base.losses[0], `loss falls: ${base.losses.join(' -> ')}`);
  for (const r of rewritten) {
    r.losses.forEach((l, i) => assert.ok(Math.abs(l - base.losses[i]) < 1e-5, `loss ${l} vs ${base.losses[i]}`));
    r.weight.flat().forEach((w, i) => assert.ok(Math.abs(w - base.weight.flat()[i]) < 1e-6, `weight ${w} vs ${base.weight.flat()[i]}`));
  }
});

const REGIONS_PY = `import torch
import torch.nn as nn
from torch.utils.checkpoint import checkpoint, checkpoint_sequential


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 16)

    def forward(self, x):
        return torch.relu(self.fc(x)) + x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = Block()
        self.seq = nn.Sequential(Block(), Block(), Block(), Block())
        self.norm = nn.LayerNorm(16)
        self.b = Block()
        self.c = Block()
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        x = checkpoint(self.a, x, use_reentrant=True)
        x = checkpoint_sequential(self.seq, 2, x)
        x = checkpoint(lambda y: self.norm(y), x, use_reentrant=False)
        x = self.norm(x)
        with torch.autograd.graph.save_on_cpu():
            x = self.b(x)
            with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                x = self.c(x)
        return self.head(x)
`;

test('bridge: both checkpoint variants, checkpoint_sequential, a closure, save_on_cpu and other saved-tensor hooks', async () => {
  const dir = fs.mkdtempSync(path.join(root, 'net-'));
  const file = path.join(dir, 'net.py');
  fs.writeFileSync(file, REGIONS_PY);
  const r = await exportPythonModel(file, { trusted: true, timeoutMs: 120_000, cacheDir, pythonPath: PY, settings: withDefaults({ mode: 'train', batch: 2 }) });
  const regions = Object.fromEntries(r.model.graph.nodes.filter((n) => n.opType !== 'Constant').map((n) => [n.name, [n.metadata[CHECKPOINT_KEY] ?? null, n.metadata[OFFLOAD_KEY] ?? null]]));
  assert.deepEqual(regions, {
    '/a/fc/Gemm': ['checkpoint:0', null],
    '/a/Relu': ['checkpoint:0', null],
    '/a/Add': ['checkpoint:0', null],
    // checkpoint_sequential(seq, 2) calls the layers one by one (Sequential.forward does not run):
    // the first segment is checkpointed, the last runs plainly.
    '/seq.0/fc/Gemm': ['checkpoint:1', null], '/seq.0/Relu': ['checkpoint:1', null], '/seq.0/Add': ['checkpoint:1', null],
    '/seq.1/fc/Gemm': ['checkpoint:1', null], '/seq.1/Relu': ['checkpoint:1', null], '/seq.1/Add': ['checkpoint:1', null],
    '/seq.2/fc/Gemm': [null, null], '/seq.2/Relu': [null, null], '/seq.2/Add': [null, null],
    '/seq.3/fc/Gemm': [null, null], '/seq.3/Relu': [null, null], '/seq.3/Add': [null, null],
    // norm is called in the checkpointed closure and again outside: each call keeps its own.
    '/norm/LayerNormalization': ['checkpoint:2', null],
    '/norm_1/LayerNormalization': [null, null],
    '/b/fc/Gemm': [null, 'offload:0'], '/b/Relu': [null, 'offload:0'], '/b/Add': [null, 'offload:0'],
    // Inner saved-tensor hooks replace save_on_cpu's (only the innermost pair applies).
    '/c/fc/Gemm': [null, null], '/c/Relu': [null, null], '/c/Add': [null, null],
    '/head/Gemm': [null, null],
  });
});

test('bridge: outside the export torch\'s own checkpoint and hooks run; all are restored afterwards', () => {
  const script = [
    'import sys, torch, torch.utils.checkpoint as c, torch.autograd.graph as g',
    `sys.path.insert(0, ${JSON.stringify(bridge)})`,
    'import export_onnx as b',
    'originals = (c.checkpoint, c.checkpoint_sequential, g.saved_tensors_hooks.__enter__, g.saved_tensors_hooks.__exit__)',
    'rec = b.RegionRecorder(torch)',
    'with b.patched_regions(torch, rec):',
    '    inside = c.checkpoint is not originals[0]',
    '    x = torch.ones(3, requires_grad=True)',
    '    calls = []',
    '    def f(t, k):',
    '        calls.append(1)',
    '        return (t * k).sin()',
    '    y = c.checkpoint(f, x, use_reentrant=False, k=2.0)',
    '    with g.save_on_cpu():',
    '        z = (x * 3).sin()',
    '    (y + z).sum().backward()',
    'after = (c.checkpoint, c.checkpoint_sequential, g.saved_tensors_hooks.__enter__, g.saved_tensors_hooks.__exit__)',
    'print(inside, after == originals, len(calls), round(x.grad[0].item(), 6), rec.records())',
  ].join('\n');
  const out = execFileSync(PY, ['-B', '-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  // The real checkpoint runs f again in backward (2 calls); d/dx (sin 2x + sin 3x) = 2 cos 2 + 3 cos 3 = -3.802271.
  assert.equal(out, 'True True 2 -3.802271 []');
});

test('bridge: the eager recording used with the dynamo exporter finds the same regions as the TorchScript trace and leaves the model as it was', () => {
  const dir = fs.mkdtempSync(path.join(root, 'eager-'));
  // A BatchNorm in every block: a training-mode forward updates its running statistics.
  fs.writeFileSync(path.join(dir, 'net.py'), REGIONS_PY.replace('self.fc = nn.Linear(16, 16)', 'self.fc = nn.Linear(16, 16)\n        self.bn = nn.BatchNorm1d(16)').replace('torch.relu(self.fc(x))', 'torch.relu(self.bn(self.fc(x)))'));
  const script = [
    'import json, os, sys, torch',
    `sys.path.insert(0, ${JSON.stringify(bridge)})`,
    'import export_onnx as b',
    'recorder = b.RegionRecorder(torch)',
    'with b.patched_regions(torch, recorder):',
    '    import net',
    '    torch.manual_seed(0)',
    '    model = net.Net()',
    '    x = torch.randn(2, 16)',
    '    b.export(torch, model, [x], ["x"], os.path.join(os.getcwd(), "net.onnx"), "train", 17, recorder)',
    '    traced = recorder.records()',
    '    recorder.calls = {}',
    '    stats = [t.clone() for t in model.buffers()]',
    '    rng = torch.get_rng_state()',
    '    b.record_eagerly(torch, recorder, model, [x])',
    '    kept = all(torch.equal(s, t) for s, t in zip(stats, model.buffers())) and torch.equal(rng, torch.get_rng_state())',
    'print(json.dumps({"same": traced == recorder.records(), "count": len(traced), "kept": kept}))',
  ].join('\n');
  const out = execFileSync(PY, ['-B', '-c', script], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop() ?? '';
  // Modules in a region: a, a.fc, a.bn; seq.0 and seq.1 with theirs; norm; b, b.fc, b.bn = 13.
  assert.deepEqual(JSON.parse(out), { same: true, count: 13, kept: true });
});
