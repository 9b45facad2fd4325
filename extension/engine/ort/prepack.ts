// Prepacked weight copies of a default-optimised CPU session. At session load ORT offers every
// constant initializer to the kernels that read it (session_state.cc PrepackConstantInitializedTensors);
// the kernels below copy it into MLAS's packed layout, reserved from the session's CPU arena
// (BFCArena::Reserve: its own region of exactly that size), held for the session's life. The original initializer is not in the arena (ORT keeps
// tensors over 127 B where the model put them), so only the copies count here. Prepacking is
// off in the runner's attribution session (session.disable_prepacking), so this applies to the
// optimised one only.
import type { Graph, GraphNode, Initializer } from '../graph';

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

const PREPACKERS: Record<string, (g: Scope, node: GraphNode) => PrepackedCopy[]> = {
  ':Gemm': gemmB,
  ':MatMul': gemmB,
  'com.microsoft:FusedGemm': gemmB,
  'com.microsoft:FusedMatMul': gemmB,
  ':LSTM': lstmWeights,
};

/**
 * Bytes of each prepacked copy the kernels of `g` make, in node order (one arena request each).
 * Every If branch and Loop/Scan body has a session state whose kernels prepack too, at load, into
 * the same arena (session_state.cc FinalizeSessionStateImpl runs for each subgraph), so bodies count
 * whether or not they run.
 */
export function prepackedCopies(g: Graph, outer: Scope = []): PrepackedCopy[] {
  const scope = [...outer, g];
  return g.nodes.flatMap((n) => {
    const own = PREPACKERS[`${n.domain === 'ai.onnx' ? '' : n.domain}:${n.opType}`]?.(scope, n) ?? [];
    const bodies = Object.values(n.attributes).flatMap((a) => {
      if (a.kind === 'graph') return prepackedCopies(a.value, scope);
      return a.kind === 'graphs' ? a.value.flatMap((sub) => prepackedCopies(sub, scope)) : [];
    });
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

export interface PrepackPlan {
  /** Copies kept for the session, in load order. */
  kept: number[];
  /**
   * Copies packed and then dropped because an identical one is kept: ONNX Runtime 1.30 keeps one
   * buffer per distinct packed content in a session (measured: two If branches whose MatMuls read
   * equal 64 KiB weights hold one 64 KiB copy, with both in the arena's peak while loading).
   */
  dropped: number[];
}

/** The session's prepacked copies: each made in node order, kept unless an equal one already is. */
export function prepackPlan(g: Graph): PrepackPlan {
  const kept: PrepackedCopy[] = [];
  const dropped: number[] = [];
  for (const copy of prepackedCopies(g)) {
    if (kept.some((k) => samePacked(k, copy))) dropped.push(copy.bytes);
    else kept.push(copy);
  }
  return { kept: kept.map((k) => k.bytes), dropped };
}
