// The LSTM kernel's working buffers (engine/ort/scratch.ts, LSTM entry) against a real
// onnxruntime-node session: the arena's in-use peak ORT reports equals the simulated one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeModel } from '../../../extension/engine/analyze';
import type { GraphNode, Initializer, Model } from '../../../extension/engine/graph';
import { decodeModel } from '../../../extension/engine/onnx/decode';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { encodeValues } from '../../../extension/engine/onnx/raw-data';
import { withDefaults } from '../../../extension/engine/settings';
import { runModel } from '../../../extension/runner/run';
import { localOrtSession } from '../../../extension/analysis/local-ort-session';

const RUNS = 2;
const session = localOrtSession(RUNS);

interface LstmCase {
  seq: number; batch: number; input: number; hidden: number;
  direction: 'forward' | 'reverse' | 'bidirectional';
  bias: boolean;
  /** Which of Y, Y_h, Y_c the node produces (absent ones are empty names). */
  outputs: [boolean, boolean, boolean];
}

function weight(name: string, dims: number[]): Initializer {
  const n = dims.reduce((a, d) => a * d, 1);
  return { name, dtype: 'float32', dims, external: false, raw: encodeValues('float32', new Array<number>(n).fill(0.01)) };
}

/** x[seq, batch, input] -> LSTM -> the outputs the case asks for, each a graph output. */
function lstmModel(c: LstmCase): Model {
  const d = c.direction === 'bidirectional' ? 2 : 1;
  const inits = [weight('W', [d, 4 * c.hidden, c.input]), weight('R', [d, 4 * c.hidden, c.hidden])];
  if (c.bias) inits.push(weight('B', [d, 8 * c.hidden]));
  const names = ['Y', 'Y_h', 'Y_c'];
  const shapes = [[c.seq, d, c.batch, c.hidden], [d, c.batch, c.hidden], [d, c.batch, c.hidden]];
  const node: GraphNode = {
    name: 'lstm', opType: 'LSTM', domain: '',
    inputs: ['x', 'W', 'R', ...(c.bias ? ['B'] : [])],
    outputs: names.map((n, i) => (c.outputs[i] ? n : '')),
    attributes: { hidden_size: { kind: 'int', value: c.hidden }, direction: { kind: 'string', value: c.direction } },
    metadata: {},
  };
  return {
    irVersion: 8, producer: 'memlens-test', opsets: { '': 17 }, metadata: {},
    graph: {
      name: 'lstm',
      inputs: [{ name: 'x', dtype: 'float32', shape: [c.seq, c.batch, c.input] }],
      outputs: names.flatMap((n, i) => (c.outputs[i] ? [{ name: n, dtype: 'float32' as const, shape: shapes[i] }] : [])),
      initializers: new Map(inits.map((t) => [t.name, t])),
      nodes: [node],
      valueInfo: new Map(),
    },
  };
}

describe('kernel scratch: the LSTM kernel\'s working buffers against a real session', () => {
  const cases: [string, LstmCase][] = [
    ['bidirectional, Y only (Y_h and Y_c stand-ins, a reversed input and output copy)',
      { seq: 50, batch: 2, input: 64, hidden: 48, direction: 'bidirectional', bias: true, outputs: [true, false, false] }],
    ['forward with all outputs (state buffers, the gate matrix, fused biases)',
      { seq: 40, batch: 3, input: 32, hidden: 64, direction: 'forward', bias: true, outputs: [true, true, true] }],
    ['reverse without bias, Y_h only',
      { seq: 30, batch: 1, input: 80, hidden: 40, direction: 'reverse', bias: false, outputs: [false, true, false] }],
  ];
  for (const [label, c] of cases) {
    it(label, async () => {
      const bytes = encodeModel(lstmModel(c));
      const profile = analyzeModel(decodeModel(bytes, 'lstm.onnx'), withDefaults({}), { source: 'lstm.onnx', entry: null, ortSession: session });
      const r = await runModel({ model: { bytes, name: 'lstm.onnx' }, ep: 'cpu', runs: RUNS, optimised: false }, { timeoutMs: 120_000 });
      const held = profile.ortHeld!;
      // The gate matrix alone is seq x batch x 4 x hidden floats per direction: scratch dominates the node.
      const d = c.direction === 'bidirectional' ? 2 : 1;
      assert.ok(held.scratchPeakBytes > d * 16 * c.seq * c.batch * c.hidden, `scratch ${held.scratchPeakBytes} B`);
      assert.equal(held.arenaInUsePeakBytes, r.attribution.peakBytes, `in-use peak (scratch ${held.scratchPeakBytes} B)`);
      assert.equal(held.arenaHeldBytes, r.attribution.arenaHeldBytes);
    });
  }
});
