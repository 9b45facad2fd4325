// GPT-2 (Radford et al., 2019) as in Hugging Face's GPT2LMHeadModel: learned positions,
// pre-LayerNorm blocks, tanh-GELU MLP, LM head tied to the token embedding.
// GPT-2 small: 124,439,808 parameters.
import * as nn from 'memlens/nn';

export type GPT2Config = {
  layers: number;
  hidden: number;
  heads: number;
  positions: number;
  vocab: number;
  eps: number;
  dropout: number;
  attention: nn.AttentionImpl;
};

export const GPT2_SMALL: GPT2Config = {
  layers: 12,
  hidden: 768,
  heads: 12,
  positions: 1024,
  vocab: 50257,
  eps: 1e-5,
  dropout: 0.1,
  attention: 'explicit',
};

class Attention extends nn.Module {
  c_attn: nn.Linear;
  c_proj: nn.Linear;
  resid_dropout: nn.Dropout;

  constructor(readonly cfg: GPT2Config, readonly layer: number) {
    super();
    this.c_attn = new nn.Linear(cfg.hidden, 3 * cfg.hidden);
    this.c_proj = new nn.Linear(cfg.hidden, cfg.hidden);
    this.resid_dropout = new nn.Dropout(cfg.dropout);
  }

  forward(x: nn.Tensor, cache: nn.KVCache | null): nn.Tensor {
    const [q, k, v] = this.c_attn.forward(x).split(this.cfg.hidden, 2);
    const y = nn.causalAttention(q, k, v, { heads: this.cfg.heads, impl: this.cfg.attention, cache, layer: this.layer });
    return this.resid_dropout.forward(this.c_proj.forward(y));
  }
}

class MLP extends nn.Module {
  c_fc: nn.Linear;
  c_proj: nn.Linear;
  dropout: nn.Dropout;

  constructor(cfg: GPT2Config) {
    super();
    this.c_fc = new nn.Linear(cfg.hidden, 4 * cfg.hidden);
    this.c_proj = new nn.Linear(4 * cfg.hidden, cfg.hidden);
    this.dropout = new nn.Dropout(cfg.dropout);
  }

  forward(x: nn.Tensor): nn.Tensor {
    const h = nn.gelu(this.c_fc.forward(x), 'tanh');
    return this.dropout.forward(this.c_proj.forward(h));
  }
}

class Block extends nn.Module {
  ln_1: nn.LayerNorm;
  attn: Attention;
  ln_2: nn.LayerNorm;
  mlp: MLP;

  constructor(cfg: GPT2Config, layer: number) {
    super();
    this.ln_1 = new nn.LayerNorm(cfg.hidden, { eps: cfg.eps });
    this.attn = new Attention(cfg, layer);
    this.ln_2 = new nn.LayerNorm(cfg.hidden, { eps: cfg.eps });
    this.mlp = new MLP(cfg);
  }

  forward(x: nn.Tensor, cache: nn.KVCache | null): nn.Tensor {
    x = x.add(this.attn.forward(this.ln_1.forward(x), cache));
    x = x.add(this.mlp.forward(this.ln_2.forward(x)));
    return x;
  }
}

export class GPT2 extends nn.Module {
  wte: nn.Embedding;
  wpe: nn.Embedding;
  drop: nn.Dropout;
  h: Block[];
  ln_f: nn.LayerNorm;
  lm_head: nn.Linear;

  constructor(readonly cfg: GPT2Config = GPT2_SMALL) {
    super();
    this.wte = new nn.Embedding(cfg.vocab, cfg.hidden, { std: 0.02 });
    this.wpe = new nn.Embedding(cfg.positions, cfg.hidden, { std: 0.01 });
    this.drop = new nn.Dropout(cfg.dropout);
    this.h = Array.from({ length: cfg.layers }, (_, i) => new Block(cfg, i));
    this.ln_f = new nn.LayerNorm(cfg.hidden, { eps: cfg.eps });
    this.lm_head = new nn.Linear(cfg.hidden, cfg.vocab, { bias: false });
    this.lm_head.weight = this.wte.weight; // tied: one parameter under two names
  }

  /** Hidden states after the final LayerNorm. */
  body(ids: nn.Tensor, cache: nn.KVCache | null = null): nn.Tensor {
    const pos = nn.positionIds(ids, cache);
    let x = this.drop.forward(this.wte.forward(ids).add(this.wpe.forward(pos)));
    for (const block of this.h) x = block.forward(x, cache);
    return this.ln_f.forward(x);
  }

  forward(ids: nn.Tensor, cache: nn.KVCache | null = null): nn.Tensor {
    return this.lm_head.forward(this.body(ids, cache));
  }
}

const tokens = (cfg: GPT2Config) => nn.input(['batch', 'sequence'], 'int64', { range: [0, cfg.vocab] });

const newCache = (cfg: GPT2Config, decode: boolean) =>
  new nn.KVCache({ layers: cfg.layers, kvHeads: cfg.heads, headDim: cfg.hidden / cfg.heads, decode });

export const gpt2 = nn.entry({
  description: 'GPT-2 small, prefill: logits and the KV cache for every position',
  config: GPT2_SMALL,
  model: (cfg) => new GPT2(cfg),
  inputs: (cfg) => ({ input_ids: tokens(cfg) }),
  forward: (model, { input_ids }, cfg) => ({ logits: model.forward(input_ids, newCache(cfg, false)) }),
});

export const gpt2Decode = nn.entry({
  description: 'GPT-2 small, one decode step over a KV cache of past_sequence positions',
  config: GPT2_SMALL,
  model: (cfg) => new GPT2(cfg),
  inputs: (cfg) => ({ input_ids: tokens(cfg) }),
  forward: (model, { input_ids }, cfg) => ({ logits: model.forward(input_ids, newCache(cfg, true)) }),
});
