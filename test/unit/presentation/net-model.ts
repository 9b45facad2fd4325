// A four-block residual MLP as a TypeScript model file (NET_TS) and as PyTorch source (NET_PY),
// and the graph the TypeScript tracer makes of NET_TS: nodes carry its lines and module scopes.
import type { Model } from '../../../extension/engine/graph';
import { GraphBuilder, int } from '../../fixtures/graph-builder';

export const FILE = '/ws/net.ts';
export const NET_TS = [
  "import * as nn from 'memlens/nn';", //                        1
  '', //                                                          2
  'class Block extends nn.Module {', //                           3
  '  fc1 = new nn.Linear(16, 64);', //                            4
  '  fc2 = new nn.Linear(64, 16);', //                            5
  '  forward(x: nn.Tensor): nn.Tensor {', //                      6
  '    const h = nn.relu(this.fc1.forward(x));', //               7
  '    return x.add(this.fc2.forward(h));', //                    8
  '  }', //                                                       9
  '}', //                                                         10
  '', //                                                          11
  'export class Net extends nn.Module {', //                      12
  '  blocks = Array.from({ length: 4 }, () => new Block());', //  13
  '  forward(x: nn.Tensor): nn.Tensor {', //                      14
  '    for (const block of this.blocks) x = block.forward(x);', //15
  '    return x;', //                                             16
  '  }', //                                                       17
  '}', //                                                         18
  '',
].join('\n');

/** The traced graph of NET_TS: 4 × (fc1 → Relu on line 7, fc2 → Add on line 8), a sum as the loss. */
export function net(): Model {
  const at = (line: number, scope: string) => ({ 'memlens.file': FILE, 'memlens.line': String(line), 'memlens.scope': scope });
  const b = new GraphBuilder();
  let x = b.input('x', 'float32', [256, 16]);
  for (let l = 0; l < 4; l++) {
    const s = `/blocks.${l}`;
    const h = b.one('MatMul', [x, b.weight(`blocks.${l}.fc1.weight`, [16, 64])], { name: `${s}/fc1/MatMul`, metadata: at(7, `blocks.${l}.fc1`) });
    const r = b.one('Relu', [h], { name: `${s}/Relu`, metadata: at(7, `blocks.${l}`) });
    const o = b.one('MatMul', [r, b.weight(`blocks.${l}.fc2.weight`, [64, 16])], { name: `${s}/fc2/MatMul`, metadata: at(8, `blocks.${l}.fc2`) });
    x = b.one('Add', [x, o], { name: `${s}/Add`, metadata: at(8, `blocks.${l}`) });
  }
  b.one('ReduceSum', [x], { name: '/loss/ReduceSum', outputs: ['loss'], attrs: { keepdims: int(0) } });
  b.output('loss', 'float32', []);
  return b.model(13);
}

export const NET_PY = [
  'import torch', //                                   1
  'import torch.nn as nn', //                          2
  '', //                                               3
  'class Block(nn.Module):', //                        4
  '    def forward(self, x):', //                      5
  '        return x + self.mlp(self.ln(x))', //        6
  '', //                                               7
  'class Net(nn.Module):', //                          8
  '    def forward(self, x):', //                      9
  '        for block in self.blocks:', //              10
  '            x = block(x)', //                       11
  '        return x', //                               12
  '',
].join('\n');
