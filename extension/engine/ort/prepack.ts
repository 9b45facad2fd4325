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
function gemmB(g: Scope, node: GraphNode): number[] {
  const b = floatInitializer(g, node.inputs[1]);
  if (!b || b.dims.length !== 2) return [];
  const transB = intAttr(node, 'transB') !== 0;
  const [k, n] = transB ? [b.dims[1], b.dims[0]] : [b.dims[0], b.dims[1]];
  return [sgemmPackBBytes(n, k)];
}

/**
 * DeepCpuLstmOp::TryPackWeights (providers/cpu/rnn/deep_cpu_lstm.cc): W [dirs, 4H, I] and
 * R [dirs, 4H, H], each packed per direction (N = 4H, K = I or H) into one buffer.
 */
function lstmWeights(g: Scope, node: GraphNode): number[] {
  const out: number[] = [];
  for (const i of [1, 2]) {
    const w = floatInitializer(g, node.inputs[i]);
    if (w && w.dims.length === 3) out.push(sgemmPackBBytes(w.dims[1], w.dims[2]) * w.dims[0]);
  }
  return out;
}

const PREPACKERS: Record<string, (g: Scope, node: GraphNode) => number[]> = {
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
export function prepackedRequests(g: Graph, outer: Scope = []): number[] {
  const scope = [...outer, g];
  return g.nodes.flatMap((n) => {
    const own = PREPACKERS[`${n.domain === 'ai.onnx' ? '' : n.domain}:${n.opType}`]?.(scope, n) ?? [];
    const bodies = Object.values(n.attributes).flatMap((a) => {
      if (a.kind === 'graph') return prepackedRequests(a.value, scope);
      return a.kind === 'graphs' ? a.value.flatMap((sub) => prepackedRequests(sub, scope)) : [];
    });
    return [...own, ...bodies];
  });
}
