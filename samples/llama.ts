// Llama 3 (Meta, 2024) as in Hugging Face's LlamaForCausalLM: RMSNorm pre-norm blocks,
// grouped-query attention with rotary embeddings (theta 500000), SwiGLU MLP, untied LM head.
// Llama-3-8B: 8,030,261,248 parameters; Llama-3-70B: 70,553,706,496.
import * as nn from 'memlens/nn';

export type LlamaConfig = {
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffn: number;
  vocab: number;
  ropeTheta: number;
  eps: number;
  attention: nn.AttentionImpl;
  /** Storage type of the KV cache; default: the model's dtype. */
  kvDtype?: nn.KvDtype;
};

export const LLAMA3_8B: LlamaConfig = {
  layers: 32,
  hidden: 4096,
  heads: 32,
  kvHeads: 8,
  headDim: 128,
  ffn: 14336,
  vocab: 128256,
  ropeTheta: 500000,
  eps: 1e-5,
  attention: 'explicit',
};

export const LLAMA3_70B: LlamaConfig = {
  ...LLAMA3_8B,
  layers: 80,
  hidden: 8192,
  heads: 64,
  kvHeads: 8,
  ffn: 28672,
};

class Attention extends nn.Module {
  q_proj: nn.Linear;
  k_proj: nn.Linear;
  v_proj: nn.Linear;
  o_proj: nn.Linear;
  rotary: nn.RotaryEmbedding;

  constructor(readonly cfg: LlamaConfig, readonly layer: number) {
    super();
    this.q_proj = new nn.Linear(cfg.hidden, cfg.heads * cfg.headDim, { bias: false });
    this.k_proj = new nn.Linear(cfg.hidden, cfg.kvHeads * cfg.headDim, { bias: false });
    this.v_proj = new nn.Linear(cfg.hidden, cfg.kvHeads * cfg.headDim, { bias: false });
    this.o_proj = new nn.Linear(cfg.heads * cfg.headDim, cfg.hidden, { bias: false });
    this.rotary = new nn.RotaryEmbedding(cfg.headDim, { base: cfg.ropeTheta });
  }

  forward(x: nn.Tensor, cache: nn.KVCache | null): nn.Tensor {
    const q = this.q_proj.forward(x);
    const k = this.k_proj.forward(x);
    const v = this.v_proj.forward(x);
    const y = nn.causalAttention(q, k, v, {
      heads: this.cfg.heads,
      kvHeads: this.cfg.kvHeads,
      impl: this.cfg.attention,
      rotary: this.rotary,
      cache,
      layer: this.layer,
    });
    return this.o_proj.forward(y);
  }
}

class MLP extends nn.Module {
  gate_proj: nn.Linear;
  up_proj: nn.Linear;
  down_proj: nn.Linear;

  constructor(cfg: LlamaConfig) {
    super();
    this.gate_proj = new nn.Linear(cfg.hidden, cfg.ffn, { bias: false });
    this.up_proj = new nn.Linear(cfg.hidden, cfg.ffn, { bias: false });
    this.down_proj = new nn.Linear(cfg.ffn, cfg.hidden, { bias: false });
  }

  forward(x: nn.Tensor): nn.Tensor {
    const gate = nn.silu(this.gate_proj.forward(x));
    return this.down_proj.forward(gate.mul(this.up_proj.forward(x)));
  }
}

class DecoderLayer extends nn.Module {
  input_layernorm: nn.RMSNorm;
  self_attn: Attention;
  post_attention_layernorm: nn.RMSNorm;
  mlp: MLP;

  constructor(cfg: LlamaConfig, layer: number) {
    super();
    this.input_layernorm = new nn.RMSNorm(cfg.hidden, { eps: cfg.eps });
    this.self_attn = new Attention(cfg, layer);
    this.post_attention_layernorm = new nn.RMSNorm(cfg.hidden, { eps: cfg.eps });
    this.mlp = new MLP(cfg);
  }

  forward(x: nn.Tensor, cache: nn.KVCache | null): nn.Tensor {
    const h = x.add(this.self_attn.forward(this.input_layernorm.forward(x), cache));
    return h.add(this.mlp.forward(this.post_attention_layernorm.forward(h)));
  }
}

export class Llama extends nn.Module {
  embed_tokens: nn.Embedding;
  layers: DecoderLayer[];
  norm: nn.RMSNorm;
  lm_head: nn.Linear;

  constructor(readonly cfg: LlamaConfig = LLAMA3_8B) {
    super();
    this.embed_tokens = new nn.Embedding(cfg.vocab, cfg.hidden, { std: 0.02 });
    this.layers = Array.from({ length: cfg.layers }, (_, i) => new DecoderLayer(cfg, i));
    this.norm = new nn.RMSNorm(cfg.hidden, { eps: cfg.eps });
    this.lm_head = new nn.Linear(cfg.hidden, cfg.vocab, { bias: false });
  }

  forward(ids: nn.Tensor, cache: nn.KVCache | null = null): nn.Tensor {
    let x = this.embed_tokens.forward(ids);
    for (const layer of this.layers) x = layer.forward(x, cache);
    return this.lm_head.forward(this.norm.forward(x));
  }
}

const tokens = (cfg: LlamaConfig) => ({ input_ids: nn.input(['batch', 'sequence'], 'int64', { range: [0, cfg.vocab] }) });

const cache = (cfg: LlamaConfig, decode: boolean) =>
  new nn.KVCache({ layers: cfg.layers, kvHeads: cfg.kvHeads, headDim: cfg.headDim, decode, ...(cfg.kvDtype ? { dtype: cfg.kvDtype } : {}) });

export const llama3_8b = nn.entry({
  description: 'Llama-3-8B, prefill: logits and the KV cache for every position',
  config: LLAMA3_8B,
  model: (cfg) => new Llama(cfg),
  inputs: tokens,
  forward: (model, { input_ids }, cfg) => ({ logits: model.forward(input_ids, cache(cfg, false)) }),
});

export const llama3_8b_decode = nn.entry({
  description: 'Llama-3-8B, one decode step over a KV cache of past_sequence positions',
  config: LLAMA3_8B,
  model: (cfg) => new Llama(cfg),
  inputs: tokens,
  forward: (model, { input_ids }, cfg) => ({ logits: model.forward(input_ids, cache(cfg, true)) }),
});

export const llama3_70b = nn.entry({
  description: 'Llama-3-70B, prefill: logits and the KV cache for every position',
  config: LLAMA3_70B,
  model: (cfg) => new Llama(cfg),
  inputs: tokens,
  forward: (model, { input_ids }, cfg) => ({ logits: model.forward(input_ids, cache(cfg, false)) }),
});
