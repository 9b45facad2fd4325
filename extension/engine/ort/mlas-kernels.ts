// Which MLAS kernels ONNX Runtime's CPU provider dispatches to on the machine that runs the model
// (onnxruntime/core/mlas/lib/platform.cpp): the packed layout of a quantised GEMM's weights, and so
// the bytes its prepacked copy holds, depend on them. Read off the machine outside the engine
// (analysis/local-ort-session.ts); the engine only takes the record.

export interface MlasKernels {
  /**
   * The U8S8 GEMM (QGemm, QLinearConv's GEMM path): `amx` where the CPU has AMX-TILE and AMX-INT8
   * and the OS grants the tile state (MLAS_GEMM_U8S8_KERNEL_AMX), else `avx` (the AVX2 and
   * AVX512-VNNI kernels, MLAS_GEMM_U8S8_KERNEL_AVX2 / _AVX512VNNI).
   */
  u8s8: 'amx' | 'avx';
}

/** Any x86-64 CPU without AMX: what an analysis assumes when it is not told. */
export const DEFAULT_MLAS_KERNELS: MlasKernels = { u8s8: 'avx' };

/**
 * PackedK of the U8S8 kernel: the AVX2 and AVX512-VNNI kernels pack K by 4 (a dword of int8s),
 * the AMX kernel by a tile's K of 64 bytes (qgemm_kernel_amx.cpp: PackedK = TILE_K).
 */
export function u8s8PackedK(kernels: MlasKernels): number {
  return kernels.u8s8 === 'amx' ? 64 : 4;
}
