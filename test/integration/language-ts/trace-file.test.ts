// traceFile on real model files in a child process: line attribution through loops, helpers,
// conditionals and imported files; one-line errors pointing at the user's line; time limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { GraphNode } from '../../../extension/engine/graph';
import { MemlensError } from '../../../extension/engine/errors';
import { MEMLENS_FILE, MEMLENS_LINE, MEMLENS_SCOPE } from '../../../extension/engine/metadata-keys';
import { traceFile } from '../../../language/typescript/trace';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-trace-'));
function write(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n'));
  return file;
}

const helperFile = write('helpers.ts', [
  "import * as nn from 'memlens/nn';",               // 1
  'export function double(x: nn.Tensor): nn.Tensor {', // 2
  '  return x.add(x);',                               // 3
  '}',
]);

const modelFile = write('looped.ts', [
  "import * as nn from 'memlens/nn';",                  // 1
  "import { double } from './helpers';",                // 2
  'function scaleUp(x: nn.Tensor): nn.Tensor {',          // 3
  '  return x.mul(2);',                                   // 4
  '}',                                                    // 5
  'export class Looped extends nn.Module {',              // 6
  '  layers = [new nn.Linear(8, 8), new nn.Linear(8, 8), new nn.Linear(8, 8)];', // 7
  "  static inputs = { x: nn.input(['batch', 8]) };",    // 8
  '  forward(x: nn.Tensor): nn.Tensor {',                 // 9
  '    for (let i = 0; i < this.layers.length; i++) {',   // 10
  '      x = this.layers[i].forward(x);',                 // 11
  '      if (i % 2 === 0) {',                             // 12
  '        x = x.relu();',                                // 13
  '      } else {',                                       // 14
  '        x = scaleUp(x);',                              // 15
  '      }',                                              // 16
  '    }',                                                // 17
  '    return double(x);',                                // 18
  '  }',
  '}',
]);

const byOp = (nodes: GraphNode[], op: string) => nodes.filter((n) => n.opType === op);

test('nodes carry the user line through loops, conditionals, helpers and imported files', async () => {
  const r = await traceFile(modelFile, undefined, { timeoutMs: 20_000 });
  assert.equal(r.entry.name, 'Looped');
  const nodes = r.model.graph.nodes;
  const gemms = byOp(nodes, 'Gemm');
  assert.equal(gemms.length, 3);
  assert.deepEqual(gemms.map((n) => n.metadata[MEMLENS_LINE]), ['11', '11', '11']);
  assert.deepEqual(gemms.map((n) => n.metadata[MEMLENS_SCOPE]), ['layers.0', 'layers.1', 'layers.2']);
  assert.ok(gemms.every((n) => n.metadata[MEMLENS_FILE] === modelFile));
  assert.deepEqual(byOp(nodes, 'Relu').map((n) => n.metadata[MEMLENS_LINE]), ['13', '13']);
  const mul = byOp(nodes, 'Mul');
  assert.equal(mul.length, 1);
  assert.equal(mul[0].metadata[MEMLENS_LINE], '4', 'inside the helper function');
  const add = byOp(nodes, 'Add');
  assert.equal(add.length, 1);
  assert.equal(add[0].metadata[MEMLENS_FILE], helperFile);
  assert.equal(add[0].metadata[MEMLENS_LINE], '3');
});

test('a shape error in user code is one line at the user line', async () => {
  const file = write('bad-shape.ts', [
    "import * as nn from 'memlens/nn';",
    'export class Bad extends nn.Module {',
    "  static inputs = { x: nn.input([1, 1024, 768]) };",
    '  w = new nn.Parameter([512, 768]);',
    '  forward(x: nn.Tensor): nn.Tensor {',
    '    const y = x.add(1);',
    '    return y.matmul(this.w);',
    '  }',
    '}',
  ]);
  await assert.rejects(traceFile(file, 'Bad'), (e: unknown) => {
    assert.ok(e instanceof MemlensError);
    assert.equal(e.message, `${file}:7: shape mismatch in matmul: [1,1024,768] x [512,768]`);
    // The same line as typed data, for the editor's Problems panel.
    assert.deepEqual(e.at, { file, line: 7 });
    return true;
  });
});

test('an exception thrown by user code points at its line, without a stack trace', async () => {
  const file = write('throws.ts', [
    "import * as nn from 'memlens/nn';",
    'function check(n: number): void {',
    "  if (n > 2) throw new Error('too many layers for this toy');",
    '}',
    'export const toy = nn.entry({',
    '  config: { layers: 3 },',
    '  model: (cfg) => { check(cfg.layers); return new nn.Linear(4, 4); },',
    "  inputs: { x: nn.input([2, 4]) },",
    '});',
  ]);
  await assert.rejects(traceFile(file, 'toy'), (e: unknown) => {
    assert.ok(e instanceof MemlensError);
    assert.equal(e.message, `${file}:3: too many layers for this toy`);
    assert.ok(!e.message.includes('\n'));
    assert.deepEqual(e.at, { file, line: 3 });
    return true;
  });
});

test('a file with no model gives a clear message', async () => {
  const file = write('empty.ts', ['export const answer = 42;']);
  await assert.rejects(traceFile(file, undefined), {
    name: 'MemlensError',
    message: 'no model entry found in empty.ts: export a class extending Module or a function returning one',
    at: null,
  });
});

test('an unknown entry name lists the entries there are', async () => {
  await assert.rejects(traceFile(modelFile, 'Nope'), { name: 'MemlensError', message: 'no entry "Nope" in looped.ts (entries: Looped)' });
});

test('a syntax error is reported at its line', async () => {
  const file = write('syntax.ts', ["import * as nn from 'memlens/nn';", 'export const x = (;']);
  await assert.rejects(traceFile(file, undefined), (e: unknown) => {
    assert.ok(e instanceof MemlensError);
    assert.match(e.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: `));
    return true;
  });
});

test('the time limit kills a model that never returns', async () => {
  const file = write('spin.ts', [
    "import * as nn from 'memlens/nn';",
    'export class Spin extends nn.Module {',
    "  static inputs = { x: nn.input([1]) };",
    '  forward(x: nn.Tensor): nn.Tensor {',
    '    while (true) {}',
    '  }',
    '}',
  ]);
  const started = Date.now();
  await assert.rejects(traceFile(file, 'Spin', { timeoutMs: 1500 }), { name: 'MemlensError', message: 'tracing spin.ts timed out after 1.5 s' });
  assert.ok(Date.now() - started < 5000);
});

test('factory functions are entries when named; a missing file is one line', async () => {
  const file = write('factory.ts', [
    "import * as nn from 'memlens/nn';",
    'export class Net extends nn.Module {',
    "  static inputs = { x: nn.input(['batch', 4]) };",
    '  fc = new nn.Linear(4, 2);',
    '  forward(x: nn.Tensor): nn.Tensor { return this.fc.forward(x); }',
    '}',
    'export function tiny(): Net { const n = new Net(); n.fc.freeze(); return n; }',
  ]);
  const r = await traceFile(file, 'tiny');
  assert.equal(r.entry.parameterCount, 10);
  assert.deepEqual(JSON.parse(r.model.metadata['memlens.frozen']), ['fc.weight', 'fc.bias']);
  await assert.rejects(traceFile(path.join(dir, 'missing.ts'), undefined), { name: 'MemlensError', message: `${path.join(dir, 'missing.ts')}: file not found` });
});
