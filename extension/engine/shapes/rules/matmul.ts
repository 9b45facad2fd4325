// Matrix products: numpy matmul semantics (1-D operands, broadcast batch dims) and Gemm.
import type { DType, Dim } from '../../graph';
import type { InferredTensor, RuleTable, ShapeRule } from '../types';
import { broadcast, sameDim } from '../dim-math';
import { ShapeError } from '../shape-error';
import { typed } from './util';

/** Output shape of matmul(a, b); transA/transB swap the last two dims first (FusedMatMul). */
export function matmulShape(a: Dim[] | null, b: Dim[] | null, transA = false, transB = false): Dim[] | null {
  if (!a || !b) return null;
  if (a.length === 0 || b.length === 0) throw new ShapeError('MatMul operands cannot be scalars');
  let x = a.length === 1 ? [1, a[0]] : a.slice();
  let y = b.length === 1 ? [b[0], 1] : b.slice();
  if (transA && a.length >= 2) x = swapLast(x);
  if (transB && b.length >= 2) y = swapLast(y);
  sameDim(x[x.length - 1], y[y.length - 2], 'MatMul inner dimensions differ');
  const batch = broadcast(x.slice(0, -2), y.slice(0, -2));
  const out = [...batch];
  if (a.length !== 1) out.push(x[x.length - 2]);
  if (b.length !== 1) out.push(y[y.length - 1]);
  return out;
}

function swapLast(s: Dim[]): Dim[] {
  const r = s.slice();
  [r[r.length - 2], r[r.length - 1]] = [r[r.length - 1], r[r.length - 2]];
  return r;
}

function matmulRule(dtype?: (inputs: (InferredTensor | undefined)[]) => DType): ShapeRule {
  return (_node, inputs, ctx) => {
    const [a, b] = inputs;
    if (!a || !b) return [null];
    // transA/transB exist only on com.microsoft FusedMatMul; plain MatMul has neither.
    const shape = matmulShape(a.shape, b.shape, ctx.int('transA', 0) === 1, ctx.int('transB', 0) === 1);
    return [typed(dtype ? dtype(inputs) : a.dtype, shape)];
  };
}

/**
 * com.microsoft FusedMatMul (contrib_defs.cc FusedMatMulShapeInference, matmul_helper.h): with
 * transBatchA / transBatchB an operand of rank 3 or more is read permuted [1, ..., r-2, 0, r-1]
 * (its first dim moved just before the last) before transA / transB swap its last two dims; ORT's
 * MatmulTransposeFusion writes them for a Transpose that moves the batch axis (attention's Q K^T).
 */
const fusedMatmul: ShapeRule = (_node, [a, b], ctx) => {
  if (!a || !b) return [null];
  const batchMoved = (s: Dim[] | null, on: boolean) => (s && on && s.length >= 3 ? [...s.slice(1, -1), s[0], s[s.length - 1]] : s);
  const x = batchMoved(a.shape, ctx.int('transBatchA', 0) === 1);
  const y = batchMoved(b.shape, ctx.int('transBatchB', 0) === 1);
  return [typed(a.dtype, matmulShape(x, y, ctx.int('transA', 0) === 1, ctx.int('transB', 0) === 1))];
};

const gemm: ShapeRule = (_node, [a, b, c], ctx) => {
  if (!a || !b) return [null];
  if (!a.shape || !b.shape) return [typed(a.dtype, [null, null])];
  if (a.shape.length !== 2 || b.shape.length !== 2) throw new ShapeError('Gemm operands must be 2-D');
  const [m, ka] = ctx.int('transA', 0) ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = ctx.int('transB', 0) ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  sameDim(ka, kb, 'Gemm inner dimensions differ');
  const out: Dim[] = [m, n];
  if (c?.shape) broadcast(out, c.shape); // C must broadcast to [M, N]
  return [typed(a.dtype, out)];
};

export const matmulRules: RuleTable = {
  '': {
    MatMul: matmulRule(),
    Gemm: gemm,
  },
  'com.microsoft': {
    FusedMatMul: fusedMatmul,
    FusedGemm: gemm,
    // A x B + bias, then FastGelu: the product's shape.
    GemmFastGelu: matmulRule(),
  },
};
