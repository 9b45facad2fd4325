// Normalisation, convolution, pooling and activation modules.
import type { DType } from '../../../extension/engine/graph';
import { MemlensError } from '../../../extension/engine/errors';
import { formatShape } from './dims';
import { dropout, gelu, silu } from './functional';
import { Buffer, Module, Parameter } from './module';
import { Tensor } from './tensor';
import { attr } from './trace-graph';

function checkLast(x: Tensor, n: number, what: string): void {
  const last = x.shape[x.rank - 1];
  if (typeof last === 'number' && last !== n) throw new MemlensError(`shape mismatch in ${what}: input ${formatShape(x.shape)}, normalised size ${n}`);
}

export class LayerNorm extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  constructor(readonly size: number, readonly options: { eps?: number; bias?: boolean; dtype?: DType } = {}) {
    super();
    this.weight = new Parameter([size], { dtype: options.dtype, init: { kind: 'constant', value: 1 } });
    this.bias = options.bias === false ? null : new Parameter([size], { dtype: options.dtype, init: { kind: 'constant', value: 0 } });
  }

  forward(x: Tensor): Tensor {
    checkLast(x, this.size, 'layer norm');
    const xin = x.to(this.weight.dtype);
    const inputs = this.bias ? [xin, this.weight, this.bias] : [xin, this.weight];
    return x.graph.op('LayerNormalization', inputs, { dtype: xin.dtype, shape: [...x.shape] }, {
      axis: attr.int(-1),
      epsilon: attr.float(this.options.eps ?? 1e-5),
    });
  }
}

/** RMSNorm (Llama): x / sqrt(mean(x^2) + eps) * weight, written out in standard ops. */
export class RMSNorm extends Module {
  readonly weight: Parameter;
  constructor(readonly size: number, readonly options: { eps?: number; dtype?: DType } = {}) {
    super();
    this.weight = new Parameter([size], { dtype: options.dtype, init: { kind: 'constant', value: 1 } });
  }

  forward(x: Tensor): Tensor {
    checkLast(x, this.size, 'rms norm');
    const xin = x.to(this.weight.dtype);
    const inv = xin.mul(xin).mean(-1, true).add(this.options.eps ?? 1e-6).rsqrt();
    return xin.mul(inv).mul(this.weight);
  }
}

type Pair = number | [number, number];
const pair = (p: Pair): [number, number] => (Array.isArray(p) ? p : [p, p]);

function spatial(x: Tensor, kernel: [number, number], stride: [number, number], pad: [number, number], dilation: [number, number] = [1, 1], ceil = false): Tensor['shape'] {
  return [2, 3].map((axis, i) => {
    const d = x.shape[axis];
    if (typeof d !== 'number') return null;
    const eff = dilation[i] * (kernel[i] - 1) + 1;
    const n = (d + 2 * pad[i] - eff) / stride[i];
    return (ceil ? Math.ceil(n) : Math.floor(n)) + 1;
  });
}

function checkImage(x: Tensor, channels: number | null, what: string): void {
  if (x.rank !== 4) throw new MemlensError(`${what} expects [N, C, H, W] input, got ${formatShape(x.shape)}`);
  if (channels !== null && typeof x.shape[1] === 'number' && x.shape[1] !== channels) {
    throw new MemlensError(`shape mismatch in ${what}: input has ${x.shape[1]} channels, layer expects ${channels}`);
  }
}

export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    readonly options: { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number; bias?: boolean; dtype?: DType } = {},
  ) {
    super();
    this.kernel = pair(kernelSize);
    this.stride = pair(options.stride ?? 1);
    this.padding = pair(options.padding ?? 0);
    this.dilation = pair(options.dilation ?? 1);
    const groups = options.groups ?? 1;
    if (inChannels % groups !== 0 || outChannels % groups !== 0) throw new MemlensError(`Conv2d: channels ${inChannels}->${outChannels} not divisible by groups ${groups}`);
    const fanIn = (inChannels / groups) * this.kernel[0] * this.kernel[1];
    const bound = 1 / Math.sqrt(fanIn);
    this.weight = new Parameter([outChannels, inChannels / groups, ...this.kernel], { dtype: options.dtype, init: { kind: 'uniform', bound } });
    this.bias = options.bias === false ? null : new Parameter([outChannels], { dtype: options.dtype, init: { kind: 'uniform', bound } });
  }

  forward(x: Tensor): Tensor {
    checkImage(x, this.inChannels, 'conv2d');
    const xin = x.to(this.weight.dtype);
    const [h, w] = spatial(x, this.kernel, this.stride, this.padding, this.dilation);
    const inputs = this.bias ? [xin, this.weight, this.bias] : [xin, this.weight];
    return x.graph.op('Conv', inputs, { dtype: xin.dtype, shape: [x.shape[0], this.outChannels, h, w] }, {
      kernel_shape: attr.ints(this.kernel),
      strides: attr.ints(this.stride),
      pads: attr.ints([this.padding[0], this.padding[1], this.padding[0], this.padding[1]]),
      dilations: attr.ints(this.dilation),
      group: attr.int(this.options.groups ?? 1),
    });
  }
}

/** BatchNorm over channels, with running statistics as buffers (inference form). */
export class BatchNorm2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  readonly runningMean: Buffer;
  readonly runningVar: Buffer;
  constructor(readonly channels: number, readonly options: { eps?: number; momentum?: number; dtype?: DType } = {}) {
    super();
    this.weight = new Parameter([channels], { dtype: options.dtype, init: { kind: 'constant', value: 1 } });
    this.bias = new Parameter([channels], { dtype: options.dtype, init: { kind: 'constant', value: 0 } });
    this.runningMean = new Buffer([channels], { dtype: options.dtype, init: { kind: 'normal', std: 0.1 } });
    this.runningVar = new Buffer([channels], { dtype: options.dtype, init: { kind: 'uniform', bound: 0.5, center: 1 } });
  }

  forward(x: Tensor): Tensor {
    checkImage(x, this.channels, 'batch norm');
    const xin = x.to(this.weight.dtype);
    return x.graph.op('BatchNormalization', [xin, this.weight, this.bias, this.runningMean, this.runningVar], { dtype: xin.dtype, shape: [...x.shape] }, {
      epsilon: attr.float(this.options.eps ?? 1e-5),
      momentum: attr.float(this.options.momentum ?? 0.9),
    });
  }
}

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly options: { stride?: Pair; padding?: Pair; ceilMode?: boolean } = {}) {
    super();
  }

  forward(x: Tensor): Tensor {
    return pool('MaxPool', x, pair(this.kernelSize), pair(this.options.stride ?? this.kernelSize), pair(this.options.padding ?? 0), this.options.ceilMode ?? false);
  }
}

export class AvgPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly options: { stride?: Pair; padding?: Pair; ceilMode?: boolean } = {}) {
    super();
  }

  forward(x: Tensor): Tensor {
    return pool('AveragePool', x, pair(this.kernelSize), pair(this.options.stride ?? this.kernelSize), pair(this.options.padding ?? 0), this.options.ceilMode ?? false);
  }
}

function pool(op: string, x: Tensor, kernel: [number, number], stride: [number, number], pad: [number, number], ceil: boolean): Tensor {
  checkImage(x, null, op === 'MaxPool' ? 'max pool' : 'avg pool');
  const [h, w] = spatial(x, kernel, stride, pad, [1, 1], ceil);
  return x.graph.op(op, [x], { dtype: x.dtype, shape: [x.shape[0], x.shape[1], h, w] }, {
    kernel_shape: attr.ints(kernel),
    strides: attr.ints(stride),
    pads: attr.ints([pad[0], pad[1], pad[0], pad[1]]),
    ceil_mode: attr.int(ceil ? 1 : 0),
    // PyTorch's AvgPool2d counts padding in the divisor by default; ONNX's default does not.
    ...(op === 'AveragePool' ? { count_include_pad: attr.int(1) } : {}),
  });
}

/** Adaptive average pooling; output 1x1 is GlobalAveragePool, other sizes need an exact divisor. */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) {
    super();
  }

  forward(x: Tensor): Tensor {
    checkImage(x, null, 'adaptive avg pool');
    const [oh, ow] = pair(this.outputSize);
    if (oh === 1 && ow === 1) return x.graph.op('GlobalAveragePool', [x], { dtype: x.dtype, shape: [x.shape[0], x.shape[1], 1, 1] });
    const [h, w] = [x.shape[2], x.shape[3]];
    if (typeof h !== 'number' || typeof w !== 'number' || h % oh !== 0 || w % ow !== 0) {
      throw new MemlensError(`adaptive avg pool: input ${formatShape(x.shape)} is not an exact multiple of output ${oh}x${ow}`);
    }
    return pool('AveragePool', x, [h / oh, w / ow], [h / oh, w / ow], [0, 0], false);
  }
}

export class Dropout extends Module {
  constructor(readonly p = 0.1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p);
  }
}

export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }

  forward(x: Tensor): Tensor {
    return gelu(x, this.approximate);
  }
}

export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

export class Softmax extends Module {
  constructor(readonly axis = -1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return x.softmax(this.axis);
  }
}

export class Flatten extends Module {
  constructor(readonly start = 1, readonly end = -1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return x.flatten(this.start, this.end);
  }
}
