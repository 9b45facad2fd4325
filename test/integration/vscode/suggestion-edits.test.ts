// The editor's rewrites end to end without the editor: suggestions for a real model (traced
// TypeScript, exported PyTorch, decoded ONNX), their source edits applied, and the rewritten
// file profiled again: the peak it gets is the peak the action's title promised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { analyzeModel } from '../../../extension/engine/analyze';
import { decodeModel } from '../../../extension/engine/onnx/decode';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { GraphBuilder } from '../../fixtures/graph-builder';
import { withDefaults } from '../../../extension/engine/settings';
import { savingOf } from '../../../extension/presentation/suggestion-actions';
import { firstPythonRewrite, pythonTarget } from '../../../language/python/suggestion-rewrites';
import * as api from '../../../extension/presentation/editor-api';
import { applyEdits as applyPythonEdits } from '../../../language/python/text-edits';
import { applyEdits } from '../../../language/typescript/rewrites/text-edit';
import { repoRoot } from '../../fixtures/repo-root';

const TRAIN = withDefaults({ mode: 'train', batch: 8, seq: 512 });
const base = { trusted: true, timeoutMs: 180_000 };

const MODEL_TS = `import * as nn from 'memlens/nn';

class Block extends nn.Module {
  ln = new nn.LayerNorm(512);
  up = new nn.Linear(512, 2048);
  down = new nn.Linear(2048, 512);
  forward(x: nn.Tensor): nn.Tensor {
    const h = nn.gelu(this.up.forward(this.ln.forward(x)));
    return x.add(this.down.forward(h));
  }
}

export class Net extends nn.Module {
  blocks: Block[];
  head: nn.Linear;
  constructor() {
    super();
    this.blocks = Array.from({ length: 8 }, () => new Block());
    this.head = new nn.Linear(512, 1000);
  }
  forward(x: nn.Tensor): nn.Tensor {
    for (const block of this.blocks) x = block.forward(x);
    return this.head.forward(x);
  }
}

export const net = nn.entry({
  model: () => new Net(),
  inputs: () => ({
    x: nn.input(['batch', 'sequence', 512], 'float32'),
    labels: nn.input(['batch', 'sequence'], 'int64', { range: [0, 1000] }),
  }),
  forward: (m, { x, labels }) => ({ loss: nn.crossEntropy(m.forward(x), labels) }),
});
`;

/** x[8,512] -> MatMul W1[512,2048] -> Relu -> MatMul W2[2048,512] -> y: 8 MiB of fp32 weights. */
function mlp() {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [8, 512]);
  const h = b.one('MatMul', [x, b.weight('W1', [512, 2048])], { name: 'fc1' });
  const r = b.one('Relu', [h], { name: 'relu' });
  b.one('MatMul', [r, b.weight('W2', [2048, 512])], { name: 'fc2', outputs: ['y'] });
  b.output('y', 'float32', [8, 512]);
  return b.model();
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-suggest-edits-'));
}

test('TypeScript: each loop rewrite, applied to the file and traced again, gives the peak its title states', { timeout: 300_000 }, async () => {
  const dir = tempDir();
  const file = path.join(dir, 'net.ts');
  fs.writeFileSync(file, MODEL_TS);
  const set = await api.suggestForFile({ ...base, file, settings: TRAIN, files: [] });
  assert.equal(set.hashes[file], createHash('sha256').update(MODEL_TS).digest('hex'));
  const loops = set.items.filter((i) => i.suggestion.kind === 'checkpoint-loop' || i.suggestion.kind === 'offload-activations');
  assert.equal(loops.length, 2);
  const rewriter = await api.sourceRewriter('typescript');
  for (const { suggestion } of loops) {
    const placed = await rewriter.place(suggestion, file, MODEL_TS, file);
    assert.ok(placed);
    const r = { edits: await rewriter.edits(suggestion, placed.site, file, MODEL_TS) };
    const marker = suggestion.kind === 'checkpoint-loop' ? 'checkpoint' : 'offload';
    const text = applyEdits(MODEL_TS, r.edits.map((e) => ({ ...e, file })));
    const loopLine = MODEL_TS.split('\n').findIndex((l) => l.includes('for (const block of this.blocks)'));
    assert.equal(text.split('\n')[loopLine], `    for (const block of this.blocks) x = nn.${marker}(() => block.forward(x));`);
    fs.writeFileSync(file, text);
    const { profile } = await api.profileFile({ ...base, file, settings: TRAIN });
    assert.ok(suggestion.reanalysed);
    assert.equal(profile.peak.bytes, suggestion.reanalysed.peakBytes, `${suggestion.action}: re-profiled peak`);
    assert.ok(profile.peak.bytes < set.peakBytes);
    fs.writeFileSync(file, MODEL_TS);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('TypeScript: a Fit to Budget plan written to the file is traced again at the verified peak', { timeout: 300_000 }, async () => {
  const dir = tempDir();
  const file = path.join(dir, 'net.ts');
  fs.writeFileSync(file, MODEL_TS);
  const budget = 2 ** 30;
  const { plan, hashes } = await api.fitForFile({ ...base, file, settings: TRAIN, files: [] }, budget, 'typescript');
  assert.equal(plan.fits, true);
  assert.equal(hashes[file], createHash('sha256').update(MODEL_TS).digest('hex'));
  const r = await (await api.sourceRewriter('typescript')).applyPlan(plan, file, MODEL_TS, file);
  assert.deepEqual(r.unmapped, []);
  assert.equal(applyEdits(MODEL_TS, r.edits.map((e) => ({ ...e, file }))), r.text);
  fs.writeFileSync(file, r.text);
  const { profile } = await api.profileFile({ ...base, file, settings: TRAIN });
  assert.equal(profile.peak.bytes, plan.chosen.verifiedPeakBytes);
  assert.ok(profile.peak.bytes <= budget);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('PyTorch: checkpointing the layer loop in the imported module lowers the exported training peak', { timeout: 600_000 }, async () => {
  const dir = tempDir();
  for (const f of ['train_gpt.py', 'gpt_decoder.py']) fs.copyFileSync(path.join(repoRoot, 'samples', 'python', f), path.join(dir, f));
  const model = path.join(dir, 'train_gpt.py');
  const lib = path.join(dir, 'gpt_decoder.py');
  // At batch 8 the training peak is in the backward, where checkpointing lowers it (at batch 1 it
  // is the AdamW update).
  const settings = withDefaults({ mode: 'train', batch: 8 });
  const py = { ...base, pythonPath: '/usr/bin/python3' };
  const set = await api.suggestForFile({ ...py, file: model, settings, files: [lib] });
  assert.ok(set.hashes[lib], 'the imported module is part of the analysis');
  const loop = set.items.find((i) => i.suggestion.kind === 'checkpoint-loop');
  assert.ok(loop?.suggestion.reanalysed);
  const text = fs.readFileSync(lib, 'utf8');
  const target = pythonTarget(loop.suggestion, text, lib, model);
  assert.ok(target);
  const found = await firstPythonRewrite(target, text);
  assert.ok(found);
  // The loop `for block in self.blocks:` is on line 82; its body calls the block.
  assert.equal(found.line, 82);
  const rewritten = applyPythonEdits(text, found.rewrite.edits);
  assert.match(rewritten, /\n {12}x = torch\.utils\.checkpoint\.checkpoint\(block, x, use_reentrant=False\)\n/);
  fs.writeFileSync(lib, rewritten);
  const { profile } = await api.profileFile({ ...py, file: model, settings });
  assert.ok(profile.peak.bytes < set.peakBytes, `peak ${profile.peak.bytes} after, ${set.peakBytes} before`);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('ONNX: a quantized copy goes to a new file with the re-analysed peak; the input is never overwritten', { timeout: 300_000 }, async () => {
  const dir = tempDir();
  const input = path.join(dir, 'encoder.onnx');
  fs.writeFileSync(input, encodeModel(mlp()));
  const original = fs.readFileSync(input);
  const settings = withDefaults({});
  const set = await api.suggestForFile({ ...base, file: input, settings, files: [] });
  // What Write Quantized Copy offers first: the quantized format that lowers the peak most.
  const q = set.items.find((i) => i.suggestion.kind === 'quantize-weights' && savingOf(i.suggestion) > 0);
  assert.ok(q?.suggestion.reanalysed, set.items.map((i) => i.suggestion.id).join(', '));
  const output = path.join(dir, 'encoder.quantized.onnx');
  const r = await api.writeRewrittenOnnx({ ...base, file: input, settings }, output, q.suggestion.rewrites);
  assert.equal(r.peakBytes, q.suggestion.reanalysed.peakBytes);
  const written = decodeModel(fs.readFileSync(output), output);
  assert.equal(analyzeModel(written, settings, { source: output, entry: null }).peak.bytes, r.peakBytes);
  assert.ok(r.peakBytes < set.peakBytes);
  await assert.rejects(
    api.writeRewrittenOnnx({ ...base, file: input, settings }, input, q.suggestion.rewrites),
    { name: 'MemlensError', message: 'encoder.onnx: a rewritten copy never replaces the model it comes from; choose another name' },
  );
  assert.ok(fs.readFileSync(input).equals(original), 'the input is unchanged');
  fs.rmSync(dir, { recursive: true, force: true });
});
