import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discoverEntries } from '../../../language/typescript/discovery';

const text = [
  "import * as nn from 'memlens/nn';",                         // 1
  "import { Module as Base, entry as makeEntry, input } from 'memlens/nn';", // 2
  'export const SMALL = { layers: 2, hidden: 8 };',             // 3
  'class Block extends nn.Module {',                            // 4
  '  fc = new nn.Linear(8, 8);',                                // 5
  '  forward(x: nn.Tensor): nn.Tensor {',                       // 6
  '    const y = this.fc.forward(x);',                          // 7
  '    return y.relu();',                                       // 8
  '  }',                                                        // 9
  '}',                                                          // 10
  'export class Net extends Base {',                            // 11
  "  static inputs = { x: input(['batch', 8]) };",             // 12
  '  blocks: Block[];',                                         // 13
  '  constructor(readonly layers = 2) {',                       // 14
  '    super();',                                               // 15
  '    this.blocks = Array.from({ length: layers }, () => new Block());', // 16
  '  }',                                                        // 17
  '  forward(x: nn.Tensor): nn.Tensor {',                       // 18
  '    for (const b of this.blocks) {',                         // 19
  '      x = b.forward(x);',                                    // 20
  '    }',                                                      // 21
  '    return x;',                                              // 22
  '  }',                                                        // 23
  '}',                                                          // 24
  'class Deep extends Block {}',                                // 25
  '/** A two-layer net. */',                                    // 26
  'export function twoLayers(): Net { return new Net(2); }',    // 27
  'export const net = makeEntry({',                             // 28
  "  description: 'the net',",                                 // 29
  "  mode: 'train',",                                          // 30
  '  config: SMALL,',                                           // 31
  '  model: (cfg) => new Net(cfg.layers),',                     // 32
  "  inputs: (cfg) => ({ x: input(['batch', cfg.hidden]), labels: input(['batch'], 'int64') }),", // 33
  '});',                                                        // 34
  'export const notAnEntry = someOtherCall({});',              // 35
].join('\n');

test('discovery finds entries, module classes, forward statements and configs in unsaved text', () => {
  const d = discoverEntries('/nowhere/unsaved.ts', text);
  assert.deepEqual(d.entries.map((e) => [e.name, e.kind, e.startLine, e.endLine]), [
    ['Net', 'class', 11, 24],
    ['twoLayers', 'factory', 27, 27],
    ['net', 'entry', 28, 34],
  ]);
  const net = d.entries.find((e) => e.name === 'net')!;
  assert.equal(net.description, 'the net');
  assert.equal(net.mode, 'train');
  assert.equal(net.modelClass, 'Net');
  assert.deepEqual(net.config, { text: 'SMALL', name: 'SMALL' });
  assert.deepEqual(net.inputs, ['x', 'labels']);
  assert.deepEqual(net.constructorParams, [{ name: 'layers', default: '2' }]);
  assert.equal(d.entries.find((e) => e.name === 'twoLayers')!.description, 'A two-layer net.');

  assert.deepEqual(d.modules.map((m) => [m.name, m.exported, m.base]), [['Block', false, 'nn.Module'], ['Net', true, 'Base'], ['Deep', false, 'Block']]);
  const fwd = d.modules.find((m) => m.name === 'Net')!.forward!;
  assert.deepEqual([fwd.startLine, fwd.endLine], [18, 23]);
  assert.deepEqual(fwd.statements.map((s) => [s.startLine, s.endLine, s.depth, s.kind]), [
    [19, 21, 0, 'ForOfStatement'],
    [20, 20, 1, 'ExpressionStatement'],
    [22, 22, 0, 'ReturnStatement'],
  ]);
  assert.deepEqual(d.modules.find((m) => m.name === 'Net')!.staticInputs, ['x']);
  assert.deepEqual(d.configs.map((c) => [c.name, c.fields.map((f) => `${f.name}=${f.value}`)]), [['SMALL', ['layers=2', 'hidden=8']]]);
});

test('a file with no model has no entries', () => {
  const d = discoverEntries('/nowhere/plain.ts', 'export const x = 1;\nexport function f() { return 2; }\n');
  assert.deepEqual(d.entries, []);
  assert.deepEqual(d.modules, []);
});
