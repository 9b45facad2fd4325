import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { relocatePythonImports } from '../../../language/python/relocate-imports';
import { isMemlensError } from '../../../extension/engine/errors';

const SRC = path.resolve('/ws/models/train.py');
const siblings = new Set(['gpt_decoder', 'layers']);
const isSibling = (m: string) => siblings.has(m);

test('same folder: unchanged; no sibling import: unchanged', () => {
  const text = 'import torch\nfrom gpt_decoder import GPT\n';
  assert.deepEqual(relocatePythonImports(text, SRC, '/ws/models/copy.py', isSibling), { text, siblings: [] });
  const plain = 'import torch\nimport torch.nn as nn\n';
  assert.deepEqual(relocatePythonImports(plain, SRC, '/out/copy.py', isSibling), { text: plain, siblings: [] });
});

test('another folder: one sys.path line before the first import, after the docstring and __future__', () => {
  const text = '"""Doc."""\nfrom __future__ import annotations\nimport torch, layers as L\n\nfrom gpt_decoder import GPT\n';
  const r = relocatePythonImports(text, SRC, '/out/copy.py', isSibling);
  assert.deepEqual(r.siblings, ['layers', 'gpt_decoder']);
  const lines = r.text.split('\n');
  assert.equal(lines[2], `import sys; sys.path.insert(0, ${JSON.stringify(path.dirname(SRC))})  # memlens fit --out: layers, gpt_decoder are next to the original`);
  // Every line the user wrote is kept, in order.
  assert.deepEqual(lines.filter((_, i) => i !== 2), text.split('\n'));
});

test('a package-relative import cannot follow the copy: refused with exit 3 in one line naming the line', () => {
  const text = 'import torch\nfrom .layers import Block\n';
  assert.throws(() => relocatePythonImports(text, SRC, '/out/copy.py', isSibling), (e: unknown) => {
    assert.ok(isMemlensError(e));
    assert.equal(e.exitCode, 3);
    assert.match(e.message, /^fit: nothing written: train\.py:2 imports relative to its package/);
    assert.ok(!e.message.includes('\n') && e.message.length <= 300);
    return true;
  });
});
