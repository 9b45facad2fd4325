// ResNet-50 (He et al., 2016) as in torchvision's resnet50 (v1.5: stride on the 3x3 conv).
// 25,557,032 parameters (BatchNorm running statistics are buffers, not parameters).
import * as nn from 'memlens/nn';

export type ResNetConfig = { blocks: number[]; width: number; classes: number; image: number };

export const RESNET50: ResNetConfig = { blocks: [3, 4, 6, 3], width: 64, classes: 1000, image: 224 };

const EXPANSION = 4;

class Bottleneck extends nn.Module {
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  conv2: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  conv3: nn.Conv2d;
  bn3: nn.BatchNorm2d;
  relu: nn.ReLU;
  downsample: nn.Sequential | null;

  constructor(inChannels: number, width: number, stride: number) {
    super();
    const out = width * EXPANSION;
    this.conv1 = new nn.Conv2d(inChannels, width, 1, { bias: false });
    this.bn1 = new nn.BatchNorm2d(width);
    this.conv2 = new nn.Conv2d(width, width, 3, { stride, padding: 1, bias: false });
    this.bn2 = new nn.BatchNorm2d(width);
    this.conv3 = new nn.Conv2d(width, out, 1, { bias: false });
    this.bn3 = new nn.BatchNorm2d(out);
    this.relu = new nn.ReLU();
    this.downsample = stride !== 1 || inChannels !== out
      ? new nn.Sequential(new nn.Conv2d(inChannels, out, 1, { stride, bias: false }), new nn.BatchNorm2d(out))
      : null;
  }

  forward(x: nn.Tensor): nn.Tensor {
    let y = this.relu.forward(this.bn1.forward(this.conv1.forward(x)));
    y = this.relu.forward(this.bn2.forward(this.conv2.forward(y)));
    y = this.bn3.forward(this.conv3.forward(y));
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return this.relu.forward(y.add(identity));
  }
}

export class ResNet extends nn.Module {
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  relu: nn.ReLU;
  maxpool: nn.MaxPool2d;
  layer1: Bottleneck[];
  layer2: Bottleneck[];
  layer3: Bottleneck[];
  layer4: Bottleneck[];
  avgpool: nn.AdaptiveAvgPool2d;
  fc: nn.Linear;

  constructor(readonly cfg: ResNetConfig = RESNET50) {
    super();
    const w = cfg.width;
    this.conv1 = new nn.Conv2d(3, w, 7, { stride: 2, padding: 3, bias: false });
    this.bn1 = new nn.BatchNorm2d(w);
    this.relu = new nn.ReLU();
    this.maxpool = new nn.MaxPool2d(3, { stride: 2, padding: 1 });
    let channels = w;
    const stage = (blocks: number, width: number, stride: number) =>
      Array.from({ length: blocks }, (_, i) => {
        const block = new Bottleneck(channels, width, i === 0 ? stride : 1);
        channels = width * EXPANSION;
        return block;
      });
    this.layer1 = stage(cfg.blocks[0], w, 1);
    this.layer2 = stage(cfg.blocks[1], w * 2, 2);
    this.layer3 = stage(cfg.blocks[2], w * 4, 2);
    this.layer4 = stage(cfg.blocks[3], w * 8, 2);
    this.avgpool = new nn.AdaptiveAvgPool2d(1);
    this.fc = new nn.Linear(channels, cfg.classes);
  }

  forward(images: nn.Tensor): nn.Tensor {
    let x = this.maxpool.forward(this.relu.forward(this.bn1.forward(this.conv1.forward(images))));
    for (const stage of [this.layer1, this.layer2, this.layer3, this.layer4]) {
      for (const block of stage) x = block.forward(x);
    }
    return this.fc.forward(this.avgpool.forward(x).flatten(1));
  }
}

export const resnet50 = nn.entry({
  description: 'ResNet-50 image classification, 224x224',
  config: RESNET50,
  model: (cfg) => new ResNet(cfg),
  inputs: (cfg) => ({ images: nn.input(['batch', 3, cfg.image, cfg.image], 'float32') }),
});
