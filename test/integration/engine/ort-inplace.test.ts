// Which CPU kernels ONNX Runtime lets write over their input (engine/ort/inplace-kernels.ts),
// against a real onnxruntime-node session: the op reads a buffer the planner reused from a dead
// value and that has no other use left, so the output shares it exactly when the kernel declares
// MayInplace(0, 0). Probed: ORT's own list and element-wise ops the ideal plan writes in place but
// ORT's kernels do not (memory/aliasing.ts); and the GELU block of a ViT (Div -> Erf), node by node.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import { MAY_INPLACE_OPS } from '../../../extension/engine/memory/aliasing';
import { ORT_CPU_MAY_INPLACE } from '../../../extension/engine/ort/inplace-kernels';
import { runModel } from '../../../extension/runner/run';
import { GraphBuilder, int } from '../../fixtures/graph-builder';
import { expectHeldAsOrt } from './held-against-ort';

const S = [1, 64, 1024];
const CONTRIB = new Set(['FastGelu', 'QuickGelu']);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow']);
const NOT_IN_PLACE_IN_ORT = [
  'HardSwish', 'Erf', 'Exp', 'Log', 'Neg', 'Abs', 'Sqrt', 'Reciprocal', 'Floor', 'Ceil', 'Sin', 'Round',
  'Dropout', 'Gelu', 'FastGelu', 'QuickGelu', ...BINARY,
];
const PROBED = [...ORT_CPU_MAY_INPLACE, ...NOT_IN_PLACE_IN_ORT];

/** p = Neg(x), q = Neg(p), r = Add(q, 1) (r takes p's dead buffer), u = op(r), s = Add(u, q). */
function probe(op: string): Uint8Array {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', S);
  const p = b.one('Neg', [x], { name: 'p' });
  const q = b.one('Neg', [p], { name: 'q' });
  const r = b.one('Add', [q, b.scalar(1)], { name: 'r' });
  const u = b.one(op, BINARY.has(op) ? [r, b.scalar(2)] : [r], { name: 'u', attrs: op === 'Cast' ? { to: int(1) } : {}, domain: CONTRIB.has(op) ? 'com.microsoft' : '' });
  b.op('Add', [u, q], { name: 's', outputs: ['y'] });
  b.output('y', 'float32', S);
  const model = b.model(op === 'Gelu' ? 20 : 17);
  if (CONTRIB.has(op)) model.opsets['com.microsoft'] = 1;
  return encodeModel(model);
}

describe('MayInplace CPU kernels, against a real session', () => {
  it('an op writes over its input exactly when the list says so', async () => {
    const inPlace: string[] = [];
    for (const op of PROBED) {
      assert.ok(MAY_INPLACE_OPS.has(op), `${op} is element-wise: the ideal plan writes it in place`);
      const r = await runModel({ model: { bytes: probe(op), name: `${op}.onnx` }, ep: 'cpu', runs: 1, optimised: false }, { timeoutMs: 60_000 });
      const at = new Map(r.attribution.nodes.map((n) => [n.node, n.requestedInUseBytes]));
      if (at.get('u') === at.get('r')) inPlace.push(op);
    }
    // Every op of ORT's list (probed first) writes in place, and no other probed op does.
    assert.deepEqual(inPlace, [...ORT_CPU_MAY_INPLACE]);
  });

  it('a GELU after a MatMul: Erf gets a buffer of its own, node by node as ORT runs it', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 197, 192]);
    const mm = b.one('MatMul', [x, b.weight('w1', [192, 768])], { name: 'mm' });
    const a = b.one('Add', [b.weight('b1', [768]), mm], { name: 'bias' });
    const d = b.one('Div', [a, b.scalar(1.41)], { name: 'div' });
    const e = b.one('Erf', [d], { name: 'erf' });
    const a1 = b.one('Add', [e, b.scalar(1)], { name: 'add1' });
    const m = b.one('Mul', [a, a1], { name: 'mul' });
    const h = b.one('Mul', [m, b.scalar(0.5)], { name: 'half' });
    b.op('MatMul', [h, b.weight('w2', [768, 192])], { name: 'mm2', outputs: ['y'] });
    b.output('y', 'float32', [1, 197, 192]);
    await expectHeldAsOrt(encodeModel(b.model(17)), 'gelu.onnx', 8);
  });
});
