// Source rewrites in the rule-tester style: input text, the exact edit, and idempotence
// (applying the result again changes nothing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rewriteText, sourceRewrite, type SourcePiece } from '../../../language/typescript/rewrites/apply-to-source';
import { applyEdits, offsetAt, positionAt } from '../../../language/typescript/rewrites/text-edit';

const FIXTURE = fs.readFileSync(path.join(__dirname, '../../../../test/fixtures/rewrites/block-model.ts.txt'), 'utf8');

interface Case {
  name: string;
  pieces: SourcePiece[];
  input: string;
  /** [before, after] substrings: the only change to the text. */
  change: [string, string][];
}

const cases: Case[] = [
  {
    name: 'checkpoint the layer loop (namespace import: nn.checkpoint, no import added)',
    pieces: [{ kind: 'region-loop', marker: 'checkpoint', attr: 'blocks' }],
    input: FIXTURE,
    change: [['for (const block of this.blocks) x = block.forward(x);', 'for (const block of this.blocks) x = nn.checkpoint(() => block.forward(x));']],
  },
  {
    name: 'offload a child block in every layer',
    pieces: [{ kind: 'region-child', marker: 'offload', child: 'mlp' }],
    input: FIXTURE,
    change: [['return x.add(this.mlp.forward(x));', 'return x.add(nn.offload(() => this.mlp.forward(x)));']],
  },
  {
    name: 'checkpoint some layers after the constructor assignment',
    pieces: [{ kind: 'region-layers', marker: 'checkpoint', attr: 'blocks', indices: [0, 2] }],
    input: FIXTURE,
    change: [['this.blocks = Array.from({ length: 4 }, () => new Block(h));', 'this.blocks = Array.from({ length: 4 }, () => new Block(h));\n    for (const i of [0, 2]) nn.checkpoint(this.blocks[i]);']],
  },
  {
    name: 'quantize a module in its constructor, keeping the trailing comment',
    pieces: [{ kind: 'quantize', attr: 'fc', format: 'int4', groupSize: 32 }],
    input: FIXTURE,
    change: [['this.fc = new nn.Linear(h, 4 * h); // expand', "this.fc = nn.quantize(new nn.Linear(h, 4 * h), 'int4', { groupSize: 32 }); // expand"]],
  },
  {
    name: 'quantize every layer of a loop (the construction inside Array.from)',
    pieces: [{ kind: 'quantize', attr: 'blocks', format: 'int8', groupSize: null }],
    input: FIXTURE,
    change: [['() => new Block(h));', "() => nn.quantize(new Block(h), 'int8'));"]],
  },
  {
    name: 'quantize the whole model where the entry builds it',
    pieces: [{ kind: 'quantize', attr: null, format: 'fp8', groupSize: null }],
    input: FIXTURE,
    change: [['model: () => new Net(),', "model: () => nn.quantize(new Net(), 'fp8'),"]],
  },
  {
    name: 'KV cache dtype',
    pieces: [{ kind: 'kv-dtype', dtype: 'int8' }],
    input: FIXTURE,
    change: [['new nn.KVCache({ layers: 4, kvHeads: 2, headDim: 4 })', "new nn.KVCache({ layers: 4, kvHeads: 2, headDim: 4, dtype: 'int8' })"]],
  },
  {
    name: 'named import: the marker is imported once, next to the existing names',
    pieces: [{ kind: 'region-loop', marker: 'checkpoint', attr: 'layers' }],
    input: "import { Module, Tensor } from 'memlens/nn';\nclass M extends Module {\n  layers: Module[] = [];\n  forward(x: Tensor) {\n    for (const l of this.layers) {\n      x = l.forward(x); // keep\n    }\n    return x;\n  }\n}\n",
    change: [
      ["import { Module, Tensor } from 'memlens/nn';", "import { Module, Tensor, checkpoint } from 'memlens/nn';"],
      ['x = l.forward(x); // keep', 'x = checkpoint(() => l.forward(x)); // keep'],
    ],
  },
  {
    name: 'fused attention: the explicit option becomes fused',
    pieces: [{ kind: 'fused-attention' }],
    input: "import * as nn from 'memlens/nn';\nexport const CFG = { heads: 4, attention: 'explicit' as nn.AttentionImpl };\n",
    change: [["attention: 'explicit' as", "attention: 'fused' as"]],
  },
];

for (const c of cases) {
  test(c.name, () => {
    const first = rewriteText('model.ts', c.input, c.pieces);
    assert.deepEqual(first.unmapped, []);
    let expected = c.input;
    for (const [before, after] of c.change) {
      assert.ok(expected.includes(before), `fixture lacks: ${before}`);
      expected = expected.replace(before, after);
    }
    assert.equal(first.text, expected);
    const second = sourceRewrite('model.ts', first.text, c.pieces);
    assert.deepEqual(second.edits, [], 'applying twice changes nothing');
    assert.deepEqual(second.unmapped, []);
  });
}

test('a piece with no place in the file is reported, not dropped', () => {
  const r = sourceRewrite('model.ts', FIXTURE, [{ kind: 'region-loop', marker: 'checkpoint', attr: 'layers' }]);
  assert.deepEqual(r.edits, []);
  assert.equal(r.unmapped.length, 1);
  assert.match(r.unmapped[0], /no `for \(\.\.\. of \.\.\.layers\)` loop/);
});

test('edits are 0-based line/character ranges that round-trip through offsets', () => {
  const r = sourceRewrite('model.ts', FIXTURE, [{ kind: 'region-loop', marker: 'checkpoint', attr: 'blocks' }]);
  assert.equal(r.edits.length, 1);
  const e = r.edits[0];
  const line = FIXTURE.split('\n').findIndex((l) => l.includes('x = block.forward(x)'));
  assert.equal(e.start.line, line);
  assert.equal(e.start.character, FIXTURE.split('\n')[line].indexOf('block.forward(x)'));
  assert.deepEqual(positionAt(FIXTURE, offsetAt(FIXTURE, e.end)), e.end);
  assert.equal(applyEdits(FIXTURE, r.edits), rewriteText('model.ts', FIXTURE, [{ kind: 'region-loop', marker: 'checkpoint', attr: 'blocks' }]).text);
});
