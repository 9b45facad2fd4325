// Vision Transformer ViT-B/16 (Dosovitskiy et al., 2021) as in torchvision's vit_b_16:
// 16x16 patches by a strided convolution, a class token, learned positions, 12 pre-norm
// encoder blocks with bidirectional attention and a GELU MLP. 86,567,656 parameters (1000 classes).
import * as nn from 'memlens/nn';

export type ViTConfig = {
  image: number;
  patch: number;
  layers: number;
  hidden: number;
  heads: number;
  mlp: number;
  classes: number;
  eps: number;
};

export const VIT_B_16: ViTConfig = { image: 224, patch: 16, layers: 12, hidden: 768, heads: 12, mlp: 3072, classes: 1000, eps: 1e-6 };

class SelfAttention extends nn.Module {
  in_proj: nn.Linear;
  out_proj: nn.Linear;

  constructor(readonly cfg: ViTConfig) {
    super();
    this.in_proj = new nn.Linear(cfg.hidden, 3 * cfg.hidden);
    this.out_proj = new nn.Linear(cfg.hidden, cfg.hidden);
  }

  forward(x: nn.Tensor): nn.Tensor {
    const [b, t] = x.shape;
    const d = this.cfg.hidden / this.cfg.heads;
    const heads = (y: nn.Tensor) => y.view(b, t, this.cfg.heads, d).transpose(1, 2);
    const [q, k, v] = this.in_proj.forward(x).split(this.cfg.hidden, 2).map(heads);
    const y = nn.scaledDotProductAttention(q, k, v, { causal: false });
    return this.out_proj.forward(y.transpose(1, 2).reshape(b, t, this.cfg.hidden));
  }
}

class EncoderBlock extends nn.Module {
  ln_1: nn.LayerNorm;
  self_attention: SelfAttention;
  ln_2: nn.LayerNorm;
  mlp: nn.Sequential;

  constructor(cfg: ViTConfig) {
    super();
    this.ln_1 = new nn.LayerNorm(cfg.hidden, { eps: cfg.eps });
    this.self_attention = new SelfAttention(cfg);
    this.ln_2 = new nn.LayerNorm(cfg.hidden, { eps: cfg.eps });
    this.mlp = new nn.Sequential(new nn.Linear(cfg.hidden, cfg.mlp), new nn.GELU(), new nn.Dropout(0), new nn.Linear(cfg.mlp, cfg.hidden));
  }

  forward(x: nn.Tensor): nn.Tensor {
    x = x.add(this.self_attention.forward(this.ln_1.forward(x)));
    return x.add(this.mlp.forward(this.ln_2.forward(x)));
  }
}

export class VisionTransformer extends nn.Module {
  conv_proj: nn.Conv2d;
  class_token: nn.Parameter;
  pos_embedding: nn.Parameter;
  layers: EncoderBlock[];
  ln: nn.LayerNorm;
  head: nn.Linear;

  constructor(readonly cfg: ViTConfig = VIT_B_16) {
    super();
    const patches = (cfg.image / cfg.patch) ** 2;
    this.conv_proj = new nn.Conv2d(3, cfg.hidden, cfg.patch, { stride: cfg.patch });
    this.class_token = new nn.Parameter([1, 1, cfg.hidden], { init: { kind: 'constant', value: 0 } });
    this.pos_embedding = new nn.Parameter([1, patches + 1, cfg.hidden], { init: { kind: 'normal', std: 0.02 } });
    this.layers = Array.from({ length: cfg.layers }, () => new EncoderBlock(cfg));
    this.ln = new nn.LayerNorm(cfg.hidden, { eps: cfg.eps });
    this.head = new nn.Linear(cfg.hidden, cfg.classes);
  }

  forward(images: nn.Tensor): nn.Tensor {
    const b = images.size(0);
    const patches = this.conv_proj.forward(images).flatten(2).transpose(1, 2); // [B, N, hidden]
    const cls = this.class_token.expand(b, 1, this.cfg.hidden);
    let x = nn.concat([cls, patches], 1).add(this.pos_embedding);
    for (const layer of this.layers) x = layer.forward(x);
    x = this.ln.forward(x);
    return this.head.forward(x.slice(1, 0, 1).squeeze(1));
  }
}

export const vit_b_16 = nn.entry({
  description: 'ViT-B/16 image classification, 224x224',
  config: VIT_B_16,
  model: (cfg) => new VisionTransformer(cfg),
  inputs: (cfg) => ({ images: nn.input(['batch', 3, cfg.image, cfg.image], 'float32') }),
});
