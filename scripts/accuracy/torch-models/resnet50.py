"""torchvision's resnet50 with random weights (held-out accuracy model; no rule is tuned on it).
Run as a script it trains on random images and labels."""
import torch
import torch.nn.functional as F
import torchvision

BATCH = 2


def build_model():
    return torchvision.models.resnet50(weights=None)


def make_batch(batch=BATCH, seq=None):
    return (torch.randn(batch, 3, 224, 224),), torch.randint(0, 1000, (batch,))


def loss_fn(logits, targets):
    return F.cross_entropy(logits, targets)


if __name__ == "__main__":
    model = build_model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for step in range(100):
        (images,), labels = make_batch()
        loss = loss_fn(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
