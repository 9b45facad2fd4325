# Exports a small attention block with dynamic batch and sequence axes, the way PyTorch users do,
# for the shape inference integration test: its Reshape/Expand/Range/Resize/Slice targets are
# computed by Shape->Gather->Concat chains. Usage: python3 dynamic_block.py OUT_DIR
import sys

import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, h=64, heads=4):
        super().__init__()
        self.emb = nn.Embedding(100, h)
        self.ln = nn.LayerNorm(h)
        self.qkv = nn.Linear(h, 3 * h)
        self.out = nn.Linear(h, h)
        self.conv = nn.Conv1d(h, h, 3, padding=1)
        self.heads = heads

    def forward(self, ids, mask):
        x = self.emb(ids)
        b, t, h = x.shape
        q, k, v = self.qkv(self.ln(x)).split(h, dim=-1)
        q = q.view(b, t, self.heads, -1).transpose(1, 2)
        k = k.view(b, t, self.heads, -1).transpose(1, 2)
        v = v.reshape(x.size(0), x.size(1), self.heads, h // self.heads).permute(0, 2, 1, 3)
        att = (q @ k.transpose(-2, -1)) / (h // self.heads) ** 0.5
        att = att.masked_fill(mask[:, None, None, :] == 0, -1e9).softmax(-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, h)
        y = y + self.conv(y.transpose(1, 2)).transpose(1, 2)
        y = y + self.emb(torch.arange(t).unsqueeze(0).expand(b, t))
        y = nn.functional.interpolate(y.transpose(1, 2), scale_factor=2.0, mode="nearest").transpose(1, 2)
        y = torch.flip(y, [1])[:, 1::2, :]
        return self.out(y)


torch.manual_seed(0)
model = Block().eval()
ids = torch.randint(0, 100, (2, 10))
mask = torch.ones(2, 10, dtype=torch.long)
out = sys.argv[1]
torch.onnx.export(model, (ids, mask), f"{out}/named_axes.onnx", input_names=["input_ids", "attention_mask"],
                  output_names=["out"], opset_version=14,
                  dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}})
torch.onnx.export(model, (ids, mask), f"{out}/generated_axes.onnx", input_names=["input_ids", "attention_mask"],
                  output_names=["out"], opset_version=17,
                  dynamic_axes={"input_ids": [0, 1], "attention_mask": [0, 1]})
