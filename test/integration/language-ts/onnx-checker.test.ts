// The official ONNX checker (python3-onnx, full_check with shape inference) accepts traced graphs.
// Shape-only weights are declared as typed graph inputs first, since their bytes do not exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { traceFile } from '../../../language/typescript/trace';

const CHECK = `
import sys, onnx
from onnx import helper
for f in sys.argv[1:]:
    m = onnx.load(f, load_external_data=False)
    g = m.graph
    keep = [t for t in g.initializer if t.data_location != onnx.TensorProto.EXTERNAL]
    for t in g.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            g.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    del g.initializer[:]
    g.initializer.extend(keep)
    onnx.checker.check_model(m, full_check=True)
    print('ok', f)
`;

const ROOT = path.resolve(__dirname, '../../../..');

test('samples pass onnx.checker.check_model(full_check=True)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-check-'));
  const jobs: [string, string, Record<string, unknown>][] = [
    ['gpt2.ts', 'gpt2', {}],
    ['gpt2.ts', 'gpt2Decode', {}],
    ['gpt2-train.ts', 'gpt2Train', { checkpoint: true }],
    ['llama.ts', 'llama3_8b', {}],
    ['llama.ts', 'llama3_8b_decode', { attention: 'fused', kvDtype: 'int8' }],
    ['vit.ts', 'vit_b_16', {}],
    ['resnet.ts', 'resnet50', {}],
  ];
  const files: string[] = [];
  for (const [file, entry, config] of jobs) {
    const r = await traceFile(path.join(ROOT, 'samples', file), entry, { config, timeoutMs: 120_000 });
    const out = path.join(dir, `${entry}.onnx`);
    fs.writeFileSync(out, encodeModel(r.model));
    files.push(out);
  }
  const stdout = execFileSync('/usr/bin/python3', ['-c', CHECK, ...files], { encoding: 'utf8' });
  assert.equal(stdout.trim().split('\n').filter((l) => l.startsWith('ok ')).length, files.length);
});
