// A block exported by real PyTorch with dynamic axes: with batch and sequence bound, every
// Shape->Gather->Concat chain folds and every tensor's shape matches ONNX Runtime, without the
// exporter's own value_info to lean on.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Model } from '../../../extension/engine/graph';
import { decodeModel } from '../../../extension/engine/onnx/decode';
import { withDefaults } from '../../../extension/engine/settings';
import { bindDims } from '../../../extension/engine/shapes/bind-dims';
import { inferShapes } from '../../../extension/engine/shapes/infer';
import { repoRoot } from '../../fixtures/repo-root';
import { disagreements } from './ort-probe';

const PYTHON = '/usr/bin/python3';
const script = path.join(repoRoot, 'test', 'integration', 'shapes', 'dynamic_block.py');

function exportBlock(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-shapes-'));
  try {
    execFileSync(PYTHON, [script, dir], { stdio: 'pipe', timeout: 120_000 });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    const last = (err.stderr?.toString() ?? err.message).trim().split('\n').pop();
    throw new Error(`exporting the test block with PyTorch failed (${last}); install python3-torch as in scripts/setup-test-env.sh`);
  }
  return dir;
}

/** The model as the exporter wrote it, minus every declared intermediate and output shape. */
function withoutDeclaredShapes(m: Model): Model {
  return { ...m, graph: { ...m.graph, valueInfo: new Map(), outputs: m.graph.outputs.map((o) => ({ ...o, shape: null })) } };
}

const dir = exportBlock();

for (const [file, batch, seq] of [['named_axes.onnx', 3, 9], ['generated_axes.onnx', 2, 5]] as const) {
  test(`PyTorch export with ${file.replace('.onnx', '').replace('_', ' ')}: all shapes fold and match ONNX Runtime`, async () => {
    const m = withoutDeclaredShapes(decodeModel(fs.readFileSync(path.join(dir, file)), file));
    const bound = bindDims(m, withDefaults({ batch, seq }));
    // Generated names are bound by position, and each such guess is reported.
    const guessed = bound.warnings.filter((w) => / is taken as the (batch size|sequence length) from its position /.test(w));
    assert.deepEqual(guessed.length, bound.warnings.length, bound.warnings.join('\n'));
    assert.equal(guessed.length > 0, file === 'generated_axes.onnx');
    const r = inferShapes(m, bound.dims);
    assert.deepEqual(r.unknown, []);
    assert.deepEqual(r.warnings, []);
    // Output: interpolate doubles the sequence, [1::2] of the flipped sequence keeps half: seq tokens.
    assert.deepEqual(r.tensors.get('out')?.shape, [batch, seq, 64]);
    const feeds = Object.fromEntries(m.graph.inputs.map((i) => [i.name, {
      dtype: i.dtype, shape: [batch, seq], values: Array.from({ length: batch * seq }, (_v, k) => (k % 7) + 1),
    }]));
    const c = await disagreements(m, bound.dims, feeds);
    assert.deepEqual(c.mismatches, []);
    assert.ok(c.compared > 100, `${c.compared} tensors compared`);
  });
}

after(() => fs.rmSync(dir, { recursive: true, force: true }));
