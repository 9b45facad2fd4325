// What each technique costs besides memory, with the published figures it can cite
// (see docs: memory techniques), and the host link used for transfer times.

/** Host link for offload transfer times: PCIe 4.0 x16, about 25 GB/s usable per direction. */
export const HOST_LINK = { name: 'PCIe 4.0 x16', bytesPerSecond: 25e9 };

export type Accuracy = 'unchanged' | 'approximate';

export interface TechniqueNote {
  accuracy: Accuracy;
  note: string;
}

export const NOTES = {
  checkpoint: {
    accuracy: 'unchanged',
    note: 'Recomputation gives the same results (random ops need their RNG state restored). Published: StreamBP reaches 2.8-5.5x longer sequences than gradient checkpointing at similar time.',
  },
  offload: {
    accuracy: 'unchanged',
    note: 'Same results; free when the transfer hides behind compute. Published: SSDTrain -47% activation peak; PipeOffload: half or all activations offloadable with negligible overhead.',
  },
  offloadKv: {
    accuracy: 'unchanged',
    note: 'Same results; each decode step fetches the cache over the host link. Published: HeadInfer (Llama-3-8B, 1M tokens) KV 128 GB -> 1 GB on the GPU.',
  },
  int8: {
    accuracy: 'approximate',
    note: 'Weights rounded to 8 bits per output channel. Published: LLM.int8() halves inference memory with no measurable degradation at scale.',
  },
  int4: {
    accuracy: 'approximate',
    note: 'Weights rounded to 4 bits per group. Published: int4 cuts memory up to 3.9x at a 3-5% accuracy drop (EfficientLLM).',
  },
  fp8: {
    accuracy: 'approximate',
    note: 'Weights in float8 e4m3 with one scale per tensor. Published: FP6-LLM runs LLaMA-70B on one GPU with 6-bit floats; 8-bit floats lose less.',
  },
  kvInt8: {
    accuracy: 'approximate',
    note: 'Cache rounded to 8 bits. Published: 2-2.5 bits per value stay under 1% relative error (Cache Me If You Must); 8 bits is well inside that.',
  },
  kvFp8: {
    accuracy: 'approximate',
    note: 'Cache in float8 e4m3. Published: 2-2.5 bits per value stay under 1% relative error (Cache Me If You Must).',
  },
  kvInt4: {
    accuracy: 'approximate',
    note: 'Cache rounded to 4 bits. Published: GEAR is near-lossless at 4 bits with up to 2.29x lower peak memory.',
  },
  fusedAttention: {
    accuracy: 'unchanged',
    note: 'Same math without the B*H*T*S score tensor (flash / memory-efficient kernels); backward recomputes the scores. Published: at T=16384 attention memory 59x lower for inference, 32x for differentiation.',
  },
  chunkedLoss: {
    accuracy: 'unchanged',
    note: 'Same loss computed in slices of positions, logits recomputed in backward. Published (Cut Your Losses, Gemma 2 2B): loss memory 24 GB -> 1 MB, classifier head 28 GB -> 1 GB.',
  },
  mixedPrecision: {
    accuracy: 'approximate',
    note: '16-bit weights, activations and gradients with fp32 master weights in the optimizer (16 B per parameter with AdamW); bf16 keeps fp32 range, fp16 needs loss scaling.',
  },
  lora: {
    accuracy: 'approximate',
    note: 'Trains low-rank adapters instead of the full weights (a different fine-tuning method, usually close in quality). Published: LST -69% memory; MeZO trains 30B where backprop fits 2.7B.',
  },
} satisfies Record<string, TechniqueNote>;
