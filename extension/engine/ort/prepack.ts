// Prepacked weight copies of a default-optimised CPU session. At session load ORT offers every
// constant initializer to the kernels that read it (session_state.cc PrepackConstantInitializedTensors);
// the kernels below copy it into MLAS's packed layout, reserved from the session's CPU arena
// (BFCArena::Reserve: its own region of exactly that size), held for the session's life. The original initializer is not in the arena (ORT keeps
// tensors over 127 B where the model put them), so only the copies count here. Prepacking is
// off in the runner's attribution session (session.disable_prepacking), so this applies to the
// optimised one only.
import { nodeBodies, type Graph, type GraphNode, type Initializer } from '../graph';
import { u8s8PackedK, type MlasKernels } from './mlas-kernels';

/** MLAS_SGEMM_STRIDEN_THREAD_ALIGN (mlasi.h): packed B's columns are padded to this. */
const SGEMM_STRIDEN_ALIGN = 16;
/** MlasGetPreferredBufferAlignment: 64 bytes (MLAS_DEFAULT_PREFERRED_BUFFER_ALIGNMENT). */
const MLAS_BUFFER_ALIGNMENT = 64;

/** MlasGemmPackBSize(N, K) for fp32 (mlas/lib/sgemm.cpp). */
export function sgemmPackBBytes(n: number, k: number): number {
  const alignedN = Math.ceil(n / SGEMM_STRIDEN_ALIGN) * SGEMM_STRIDEN_ALIGN;
  return Math.ceil((alignedN * k * 4) / MLAS_BUFFER_ALIGNMENT) * MLAS_BUFFER_ALIGNMENT;
}

/** One copy a kernel makes: its bytes, the packing (kernel and dims) and the initializer packed. */
export interface PrepackedCopy {
  bytes: number;
  layout: string;
  source: Initializer;
  /**
   * How the kernel takes it from the arena: 'reserve' (IAllocator::MakeUniquePtr with use_reserve,
   * the fp32 GEMM and LSTM packers) or 'alloc' (a plain alloc->Alloc, which BFCArena serves from its
   * regions like any tensor: QLinearConv, QGemm). Absent: 'reserve'.
   */
  via?: 'alloc';
  /** A scratch copy the packer allocates after the packed buffer and frees before returning (bytes). */
  temporaryBytes?: number;
}

/** A graph and the graphs enclosing it: a body may read an outer graph's initializer. */
type Scope = Graph[];

function floatInitializer(scope: Scope, name: string | undefined): Initializer | null {
  if (!name) return null;
  for (let i = scope.length - 1; i >= 0; i--) {
    const t = scope[i].initializers.get(name);
    if (t) return t.dtype === 'float32' ? t : null;
  }
  return null;
}

function intAttr(node: GraphNode, name: string): number {
  const a = node.attributes[name];
  return a?.kind === 'int' ? a.value : 0;
}

/**
 * GemmPackBFp32 (providers/cpu/math/gemm.cc), used by Gemm, FusedGemm, MatMul and FusedMatMul:
 * a constant 2-D fp32 B only; K and N follow transB.
 */
function gemmB(g: Scope, node: GraphNode): PrepackedCopy[] {
  const b = floatInitializer(g, node.inputs[1]);
  if (!b || b.dims.length !== 2) return [];
  const transB = intAttr(node, 'transB') !== 0;
  const [k, n] = transB ? [b.dims[1], b.dims[0]] : [b.dims[0], b.dims[1]];
  return [{ bytes: sgemmPackBBytes(n, k), layout: `sgemm ${n}x${k}`, source: b }];
}

/**
 * DeepCpuLstmOp::TryPackWeights (providers/cpu/rnn/deep_cpu_lstm.cc): W [dirs, 4H, I] and
 * R [dirs, 4H, H], each packed per direction (N = 4H, K = I or H) into one buffer.
 */
function lstmWeights(g: Scope, node: GraphNode): PrepackedCopy[] {
  const out: PrepackedCopy[] = [];
  for (const i of [1, 2]) {
    const w = floatInitializer(g, node.inputs[i]);
    if (w && w.dims.length === 3) out.push({ bytes: sgemmPackBBytes(w.dims[1], w.dims[2]) * w.dims[0], layout: `lstm ${w.dims.join('x')}`, source: w });
  }
  return out;
}

/** MLAS_QGEMM_STRIDEN_THREAD_ALIGN (mlasi.h): packed quantised B's columns are padded to this. */
const QGEMM_STRIDEN_ALIGN = 16;
/**
 * MlasGemmPackBSize(N, K) for u8 A and s8 B on x86-64 (mlas/lib/qgemm.h MlasGemmQuantTryGetPackBSize):
 * int32 column sums for the padded N, then the padded N x padded K bytes (K padded to the
 * dispatched kernel's PackedK), rounded to the buffer alignment.
 */
export function qgemmPackBBytes(n: number, k: number, kernels: MlasKernels): number {
  const packedK = u8s8PackedK(kernels);
  const alignedN = Math.ceil(n / QGEMM_STRIDEN_ALIGN) * QGEMM_STRIDEN_ALIGN;
  const alignedK = Math.ceil(k / packedK) * packedK;
  return Math.ceil((alignedN * 4 + alignedN * alignedK) / MLAS_BUFFER_ALIGNMENT) * MLAS_BUFFER_ALIGNMENT;
}

function anyInitializer(scope: Scope, name: string | undefined): Initializer | null {
  if (!name) return null;
  for (let i = scope.length - 1; i >= 0; i--) {
    const t = scope[i].initializers.get(name);
    if (t) return t;
  }
  return null;
}

/** What the packing choice reads of a tensor: an initializer, or the inferred type with folded values. */
export interface ConstantView { dtype: string; dims: number[]; values?: number[] }

/** Whether a constant int8 zero point is all zeros (what the symmetric kernels need). */
function zeroInt8(t: ConstantView | null): boolean {
  return t !== null && t.dtype === 'int8' && t.values !== undefined && t.values.every((v) => v === 0);
}

/**
 * The packing QLinearConv<uint8_t>::PrePack (providers/cpu/quantization/qlinearconv.cc) chooses for
 * its weight, shared with the kernel's scratch rule: 'sym' when TryConvSymPrepack succeeds (s8
 * weights, constant x zero point, all-zero constant weight zero points, MlasConvSymPackWSize != 0),
 * 'gemm' for MlasGemmPackBSize, 'reordered' for depthwise weights kept as a reordered copy.
 */
export interface QLinearConvPacking { kind: 'sym' | 'gemm' | 'reordered'; bytes: number }

/** x86-64 MLAS_CONV_SYM_DISPATCH for u8 input (convsym.cpp, AVX512 VNNI/Core tables): filter pack counts and alignments. */
const CONV_SYM = { outputPack: 16, inputAlign: 4, outputAlign: 4, depthwiseGroupAlign: 16 };

/** MlasConvSymPackWSize (mlas/lib/convsym.cpp) for u8 activations on x86-64: 0 when the symmetric kernels do not apply. */
export function convSymPackWBytes(groups: number, groupIn: number, groupOut: number, kernelSize: number): number {
  if (groups > 1) {
    if (groupIn !== 1 || groupOut !== 1 || groups % CONV_SYM.depthwiseGroupAlign !== 0) return 0;
    return groups * kernelSize;
  }
  if (groupOut < CONV_SYM.outputPack || groupIn % CONV_SYM.inputAlign !== 0 || groupOut % CONV_SYM.outputAlign !== 0) return 0;
  return Math.ceil(groupOut / CONV_SYM.outputPack) * CONV_SYM.outputPack * groupIn * kernelSize;
}

/** The weight packing of a QLinearConv whose W is constant, from a lookup of its constant inputs; null when none is modelled. */
export function qlinearConvPacking(lookup: (name: string | undefined) => ConstantView | null, node: GraphNode, kernels: MlasKernels): QLinearConvPacking | null {
  const w = lookup(node.inputs[3]);
  if (!w || w.dims.length <= 2 || w.dtype !== 'int8') return null; // u8 weights (u8u8 kernels) are not modelled
  const group = Math.max(1, intAttr(node, 'group') || 1);
  const [m, c] = w.dims;
  if (m % group !== 0) return null;
  const kernelSize = w.dims.slice(2).reduce((a, b) => a * b, 1);
  const groupOut = m / group;
  if (lookup(node.inputs[2])?.values !== undefined && zeroInt8(lookup(node.inputs[5]))) {
    const sym = convSymPackWBytes(group, c, groupOut, kernelSize);
    if (sym > 0) return { kind: 'sym', bytes: sym };
  }
  // MlasSymmQgemmPackBSize has no x86-64 dispatch (ARM64 only), so the symmetric GEMM packing is skipped.
  if (c !== 1 || groupOut !== 1) return { kind: 'gemm', bytes: group * qgemmPackBBytes(groupOut, c * kernelSize, kernels) };
  return { kind: 'reordered', bytes: m * c * kernelSize };
}

function qlinearConvW(g: Scope, node: GraphNode, kernels: MlasKernels): PrepackedCopy[] {
  const packing = qlinearConvPacking((name) => anyInitializer(g, name), node, kernels);
  const w = anyInitializer(g, node.inputs[3]);
  if (!packing || !w) return [];
  // The GEMM packing reorders one group's filter (group_reordered_W: M/group x C/group x kernel bytes) first.
  const temporaryBytes = packing.kind === 'gemm' ? (w.dims[0] / Math.max(1, intAttr(node, 'group') || 1)) * w.dims.slice(1).reduce((a, b) => a * b, 1) : 0;
  // Only the symmetric path keeps its alloc->Alloc buffer; the others hand theirs to the session's
  // PrePackedWeights, which ORT 1.30 holds in a region of exactly its size, as Reserve does
  // (measured: test/integration/engine/ort-qlinear.test.ts, the arena's held bytes).
  const via = packing.kind === 'sym' ? 'alloc' as const : undefined;
  return [{ bytes: packing.bytes, layout: `qlinearconv ${packing.kind} ${w.dims.join('x')}`, source: w, via, temporaryBytes }];
}

/**
 * QGemm (contrib_ops/cpu/quantization/qgemm.cc, MatMulIntegerBase::PrePack in
 * providers/cpu/quantization/matmul_integer_base.h): a constant 2-D s8 B packed by MlasGemmPackBSize(N, K).
 */
function qgemmB(g: Scope, node: GraphNode, kernels: MlasKernels): PrepackedCopy[] {
  const b = anyInitializer(g, node.inputs[3]);
  const a = anyInitializer(g, node.inputs[0]);
  if (!b || b.dtype !== 'int8' || b.dims.length !== 2 || a) return [];
  const transB = intAttr(node, 'transB') !== 0;
  const [k, n] = transB ? [b.dims[1], b.dims[0]] : [b.dims[0], b.dims[1]];
  // MatMulIntegerBase::PrePack: IAllocator::MakeUniquePtr<void>(alloc, packed_b_size_, true), a reserved region;
  // a transposed B is first copied back to K x N (quantization::TransPoseInputData, a K x N byte tensor, freed after).
  return [{ bytes: qgemmPackBBytes(n, k, kernels), layout: `qgemm ${n}x${k}`, source: b, temporaryBytes: transB ? k * n : 0 }];
}

const PREPACKERS: Record<string, (g: Scope, node: GraphNode, kernels: MlasKernels) => PrepackedCopy[]> = {
  ':Gemm': gemmB,
  ':MatMul': gemmB,
  'com.microsoft:FusedGemm': gemmB,
  'com.microsoft:FusedMatMul': gemmB,
  ':LSTM': lstmWeights,
  ':QLinearConv': qlinearConvW,
  'com.microsoft:QLinearConv': qlinearConvW,
  'com.microsoft:QGemm': qgemmB,
};

/**
 * Bytes of each prepacked copy the kernels of `g` make, in node order (one arena request each).
 * Every If branch and Loop/Scan body has a session state whose kernels prepack too, at load, into
 * the same arena (session_state.cc FinalizeSessionStateImpl runs for each subgraph), so bodies count
 * whether or not they run.
 */
export function prepackedCopies(g: Graph, kernels: MlasKernels, outer: Scope = []): PrepackedCopy[] {
  const scope = [...outer, g];
  return g.nodes.flatMap((n) => {
    const own = PREPACKERS[`${n.domain === 'ai.onnx' ? '' : n.domain}:${n.opType}`]?.(scope, n, kernels) ?? [];
    const bodies = nodeBodies(n).flatMap((body) => prepackedCopies(body, kernels, scope));
    return [...own, ...bodies];
  });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether two copies are the same packed bytes: the same packing of equal initializer contents. */
function samePacked(a: PrepackedCopy, b: PrepackedCopy): boolean {
  if (a.layout !== b.layout || a.bytes !== b.bytes) return false;
  if (a.source === b.source) return true;
  return a.source.raw !== undefined && b.source.raw !== undefined && sameBytes(a.source.raw, b.source.raw);
}

/** One kept copy as the arena sees it at load. */
export interface PrepackStep {
  bytes: number;
  via: 'reserve' | 'alloc';
  /** The packer's temporary, alive while it packs (0: none). */
  temporaryBytes: number;
}

/** The arena calls a load-time packing makes. */
export interface PrepackArena {
  reserve(bytes: number): void;
  allocate(bytes: number): number | null;
  free(h: number): void;
}

/**
 * One packer at load: a reserving packer (GEMM, QGemm) copies its input to a temporary first; an
 * allocating one (QLinearConv) allocates the packed buffer, then its temporary; the temporary is freed before it returns.
 */
export function loadPrepacked(arena: PrepackArena, step: PrepackStep): void {
  if (step.via === 'alloc') arena.allocate(step.bytes);
  const temporary = step.temporaryBytes > 0 ? arena.allocate(step.temporaryBytes) : null;
  if (step.via === 'reserve') arena.reserve(step.bytes);
  if (temporary !== null) arena.free(temporary);
}

export interface PrepackPlan {
  /** Copies kept for the session, in load order. */
  kept: PrepackStep[];
  /**
   * Copies packed and then dropped because an identical one is kept: ONNX Runtime 1.30 keeps one
   * buffer per distinct packed content in a session (measured: two If branches whose MatMuls read
   * equal 64 KiB weights hold one 64 KiB copy, with both in the arena's peak while loading).
   */
  dropped: number[];
}

/** The session's prepacked copies: each made in node order, kept unless an equal one already is. */
export function prepackPlan(g: Graph, kernels: MlasKernels): PrepackPlan {
  const kept: PrepackedCopy[] = [];
  const dropped: number[] = [];
  for (const copy of prepackedCopies(g, kernels)) {
    if (kept.some((k) => samePacked(k, copy))) dropped.push(copy.bytes);
    else kept.push(copy);
  }
  return { kept: kept.map((k) => ({ bytes: k.bytes, via: k.via ?? 'reserve', temporaryBytes: k.temporaryBytes ?? 0 })), dropped };
}
