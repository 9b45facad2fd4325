// Graph rewrites as plain data: what a suggestion changes, applied to a copy of the model
// (for re-analysis) or written to a new .onnx file. Node lists are node names.

export type WeightFormat = 'int8' | 'int4' | 'fp8';
export type KvFormat = 'int8' | 'fp8' | 'int4';

export type GraphRewrite =
  /** Activation checkpointing: one region per entry; region ids are unique in the model. */
  | { kind: 'checkpoint'; regions: { id: string; scope: string; nodes: string[] }[] }
  /** Saved activations of these regions go to host memory between forward and backward. */
  | { kind: 'offload'; regions: { id: string; scope: string; nodes: string[] }[] }
  /** Weights consumed by MatMul/Gemm stored quantized (per output channel, or per group). */
  | { kind: 'quantize-weights'; scope: string; format: WeightFormat; groupSize: number | null; weights: string[] }
  /** The KV cache (past inputs, present outputs) stored in a narrower format. */
  | { kind: 'quantize-kv'; format: KvFormat }
  /** The KV cache kept in host memory, one layer streamed to the device at a time (a runtime setting, recorded in the model's metadata). */
  | { kind: 'offload-kv' }
  /** Explicit softmax(QKᵀ)V chains replaced by one fused attention op each. */
  | { kind: 'fused-attention'; sites: AttentionSite[] }
  /** The vocabulary projection and loss computed in chunks along the sequence, each recomputed in backward. */
  | { kind: 'chunked-loss'; chunks: number; head: string; loss: string }
  /** Frozen backbone with low-rank adapters (rank r) beside each listed weight. */
  | { kind: 'lora'; rank: number; weights: string[] };

/** One explicit attention chain: MatMul(q, kᵀ) → scale → mask? → Softmax → MatMul(·, v). */
export interface AttentionSite {
  scope: string;
  /** Node names in chain order: scores MatMul, scale, [mask], Softmax, output MatMul. */
  nodes: string[];
  q: string;
  /** The tensor multiplied with q (kᵀ, [B, H, d, S]). */
  kT: string;
  v: string;
  output: string;
  /** Additive float mask, or a boolean keep-mask from Where(cond, scores, -inf); null when none. */
  mask: { kind: 'add' | 'where'; tensor: string } | null;
  scale: number | null;
  heads: number;
  headDim: number;
}
