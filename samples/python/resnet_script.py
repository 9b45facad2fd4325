"""torchvision's ResNet-18 with random weights (nothing is downloaded)."""
import torch
from torchvision.models import resnet18


def build_model():
    return resnet18(weights=None)


if __name__ == "__main__":
    model = build_model().eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        print(model(x).shape)
