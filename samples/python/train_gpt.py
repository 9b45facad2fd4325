"""Training entry for the GPT decoder: the forward with its cross-entropy loss, and a training loop."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from gpt_decoder import GPT, GPTConfig


class GPTWithLoss(nn.Module):
    def __init__(self, cfg: GPTConfig = GPTConfig()):
        super().__init__()
        self.gpt = GPT(cfg)

    def forward(self, idx, targets):
        logits = self.gpt(idx)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return loss


# memlens: entry build_training_model
# memlens: input idx = (batch, seq) int64
# memlens: input targets = (batch, seq) int64
def build_training_model():
    return GPTWithLoss(GPTConfig())


def train_step(model, optimizer, idx, targets):
    loss = model(idx, targets)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()


if __name__ == "__main__":
    model = build_training_model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
    for step in range(3):
        idx = torch.randint(0, 4096, (4, 128))
        targets = torch.randint(0, 4096, (4, 128))
        print(step, train_step(model, optimizer, idx, targets))
