// The MLAS kernel choice read off /proc/cpuinfo, and what it changes: a quantised GEMM's packed
// weight pads K to the kernel's PackedK (4 for AVX2 / AVX512-VNNI, 64 for AMX). The packed sizes
// are MlasGemmPackBSize's formula; ORT's own figures for both kernels are checked in
// test/integration/engine/ort-qlinear.test.ts on whichever CPU runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMlasKernels } from '../../../extension/analysis/local-ort-session';
import { qgemmPackBBytes } from '../../../extension/engine/ort/prepack';

const SAPPHIRE_RAPIDS = 'processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_vnni amx_bf16 avx512_fp16 amx_tile amx_int8\n';
const CASCADE_LAKE = 'processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_vnni\n';

test('the AMX kernel needs both AMX-TILE and AMX-INT8 in the flags; anything else is the AVX kernels', () => {
  assert.deepEqual(parseMlasKernels(SAPPHIRE_RAPIDS), { u8s8: 'amx' });
  assert.deepEqual(parseMlasKernels(CASCADE_LAKE), { u8s8: 'avx' });
  assert.deepEqual(parseMlasKernels('flags\t: avx2 amx_tile\n'), { u8s8: 'avx' }, 'AMX-TILE without AMX-INT8');
  assert.deepEqual(parseMlasKernels(''), { u8s8: 'avx' }, 'no /proc/cpuinfo');
});

test('packed B: int32 column sums and N x K bytes, N padded to 16 and K to the kernel\'s PackedK, in 64-byte units', () => {
  // N = 32, K = 27 (a 3-channel 3 x 3 QLinearConv): AVX 32 x 4 + 32 x 28 = 1024; AMX 32 x 4 + 32 x 64 = 2176.
  assert.equal(qgemmPackBBytes(32, 27, { u8s8: 'avx' }), 1024);
  assert.equal(qgemmPackBBytes(32, 27, { u8s8: 'amx' }), 2176);
  // K = 3 (pointwise): AVX 128 + 32 x 4 = 256; AMX pads it to a whole tile row too.
  assert.equal(qgemmPackBBytes(32, 3, { u8s8: 'avx' }), 256);
  assert.equal(qgemmPackBBytes(32, 3, { u8s8: 'amx' }), 2176);
  // N = 1000, K = 512: a multiple of 64 already, so both kernels pack it alike.
  assert.equal(qgemmPackBBytes(1000, 512, { u8s8: 'avx' }), qgemmPackBBytes(1000, 512, { u8s8: 'amx' }));
});
