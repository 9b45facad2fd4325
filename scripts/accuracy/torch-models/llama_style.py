"""A Llama-style decoder written with torch.nn (held-out accuracy model; no rule is tuned on it).

RMSNorm, rotary position embeddings from cos/sin tables held as buffers, grouped-query attention
(fewer key/value heads than query heads, repeated to match), a SwiGLU feed-forward, no biases and
an untied LM head, as in Llama. Run as a script it trains on random tokens.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, CONTEXT, LAYERS, HEADS, KV_HEADS, WIDTH, HIDDEN = 8192, 128, 4, 8, 2, 256, 704
ROPE_THETA, ATTENTION_DROPOUT = 10000.0, 0.0
BATCH, SEQ = 2, 128


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + self.eps))


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Rotary(nn.Module):
    def __init__(self, head_dim):
        super().__init__()
        inv_freq = 1.0 / (ROPE_THETA ** (torch.arange(0, head_dim, 2).float() / head_dim))
        angles = torch.outer(torch.arange(CONTEXT).float(), inv_freq)
        angles = torch.cat((angles, angles), dim=-1)
        self.register_buffer("cos", angles.cos(), persistent=False)
        self.register_buffer("sin", angles.sin(), persistent=False)

    def forward(self, q, k):
        t = q.shape[-2]
        cos, sin = self.cos[:t], self.sin[:t]
        return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.head_dim = WIDTH // HEADS
        self.q_proj = nn.Linear(WIDTH, HEADS * self.head_dim, bias=False)
        self.k_proj = nn.Linear(WIDTH, KV_HEADS * self.head_dim, bias=False)
        self.v_proj = nn.Linear(WIDTH, KV_HEADS * self.head_dim, bias=False)
        self.o_proj = nn.Linear(HEADS * self.head_dim, WIDTH, bias=False)
        self.rotary = Rotary(self.head_dim)

    def forward(self, x):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, HEADS, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, KV_HEADS, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, KV_HEADS, self.head_dim).transpose(1, 2)
        q, k = self.rotary(q, k)
        k = k.repeat_interleave(HEADS // KV_HEADS, dim=1)
        v = v.repeat_interleave(HEADS // KV_HEADS, dim=1)
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim)
        mask = torch.full((t, t), float("-inf"), device=x.device).triu(1)
        weights = F.softmax(scores + mask, dim=-1, dtype=torch.float32).to(q.dtype)
        weights = F.dropout(weights, p=ATTENTION_DROPOUT, training=self.training)
        out = torch.matmul(weights, v).transpose(1, 2).reshape(b, t, -1)
        return self.o_proj(out)


class SwiGLU(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate_proj = nn.Linear(WIDTH, HIDDEN, bias=False)
        self.up_proj = nn.Linear(WIDTH, HIDDEN, bias=False)
        self.down_proj = nn.Linear(HIDDEN, WIDTH, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_layernorm = RMSNorm(WIDTH)
        self.self_attn = Attention()
        self.post_attention_layernorm = RMSNorm(WIDTH)
        self.mlp = SwiGLU()

    def forward(self, x):
        x = x + self.self_attn(self.input_layernorm(x))
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaStyle(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed_tokens = nn.Embedding(VOCAB, WIDTH)
        self.layers = nn.ModuleList([DecoderLayer() for _ in range(LAYERS)])
        self.norm = RMSNorm(WIDTH)
        self.lm_head = nn.Linear(WIDTH, VOCAB, bias=False)

    def forward(self, input_ids):
        x = self.embed_tokens(input_ids)
        for layer in self.layers:
            x = layer(x)
        return self.lm_head(self.norm(x))


def build_model():
    return LlamaStyle()


def make_batch(batch=BATCH, seq=SEQ):
    tokens = torch.randint(0, VOCAB, (batch, seq + 1))
    return (tokens[:, :-1].contiguous(),), tokens[:, 1:].contiguous()


def loss_fn(logits, targets):
    return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


if __name__ == "__main__":
    model = build_model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
    for step in range(100):
        (input_ids,), targets = make_batch()
        loss = loss_fn(model(input_ids), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
