// Each module type, traced with seeded random weights and run in ONNX Runtime, against a plain
// TypeScript computation of the same module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import type { Model } from '../../../extension/engine/graph';
import { encodeModel } from '../../../extension/engine/onnx/encode';
import * as nn from '../../../language/typescript/api/nn';
import { decodeValues } from '../../../extension/engine/onnx/raw-data';
import { traceModel } from '../../../language/typescript/api/trace-model';
import * as ref from './reference';

type Feed = { data: number[]; shape: number[]; dtype?: 'float32' | 'int64' };

async function run<M extends nn.Module>(
  module: M,
  inputs: Record<string, Feed>,
  forward: (m: M, xs: Record<string, nn.Tensor>) => nn.ForwardResult,
  options: { mode?: nn.Mode } = {},
): Promise<{ out: Record<string, Float64Array>; weight: (name: string) => ref.Arr; model: Model }> {
  const specs: Record<string, nn.InputSpec> = {};
  for (const [k, f] of Object.entries(inputs)) specs[k] = nn.input(f.shape, f.dtype ?? 'float32');
  const { model } = traceModel(module, specs, forward, { materialize: true, seed: 11, ...(options.mode ? { mode: options.mode } : {}) });
  const session = await ort.InferenceSession.create(encodeModel(model));
  const feeds: Record<string, ort.Tensor> = {};
  for (const [k, f] of Object.entries(inputs)) {
    feeds[k] = f.dtype === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(f.data.map(BigInt)), f.shape) : new ort.Tensor('float32', Float32Array.from(f.data), f.shape);
  }
  const result = await session.run(feeds);
  const out: Record<string, Float64Array> = {};
  for (const [k, t] of Object.entries(result)) out[k] = Float64Array.from(t.data as Float32Array);
  const weight = (name: string): ref.Arr => {
    const init = model.graph.initializers.get(name);
    if (!init?.raw) throw new Error(`no materialised weight ${name}`);
    return ref.arr(decodeValues(init.dtype, init.raw), init.dims);
  };
  return { out, weight, model };
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4): void {
  assert.equal(actual.length, expected.length, 'length');
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  assert.ok(worst <= tol, `max relative error ${worst} > ${tol}`);
}

const wave = (n: number, f = 0.37, scale = 1) => Array.from({ length: n }, (_, i) => scale * Math.sin(i * f + 0.1));

test('Linear on a rank-3 input (Gemm on the flattened rows)', async () => {
  const x = { data: wave(2 * 3 * 8), shape: [2, 3, 8] };
  const { out, weight } = await run(new nn.Linear(8, 5), { x }, (m, { x: t }) => m.forward(t));
  close(out.output, ref.linear(ref.arr(x.data, x.shape), weight('weight'), weight('bias')).data);
});

test('Embedding', async () => {
  const ids = [3, 0, 9, 3];
  const { out, weight } = await run(new nn.Embedding(10, 6), { ids: { data: ids, shape: [4], dtype: 'int64' } }, (m, { ids: t }) => m.forward(t));
  close(out.output, ref.embedding(ids, weight('weight')).data);
});

test('LayerNorm and RMSNorm', async () => {
  const x = { data: wave(3 * 16, 0.9, 2), shape: [3, 16] };
  const ln = await run(new nn.LayerNorm(16, { eps: 1e-5 }), { x }, (m, { x: t }) => m.forward(t));
  close(ln.out.output, ref.layerNorm(ref.arr(x.data, x.shape), ln.weight('weight'), ln.weight('bias'), 1e-5).data);
  const rms = await run(new nn.RMSNorm(16, { eps: 1e-6 }), { x }, (m, { x: t }) => m.forward(t));
  close(rms.out.output, ref.rmsNorm(ref.arr(x.data, x.shape), rms.weight('weight'), 1e-6).data);
});

test('Conv2d (stride 2, padding 1) and BatchNorm2d', async () => {
  const x = { data: wave(2 * 3 * 7 * 7), shape: [2, 3, 7, 7] };
  class ConvBn extends nn.Module {
    conv = new nn.Conv2d(3, 4, 3, { stride: 2, padding: 1 });
    bn = new nn.BatchNorm2d(4);
    forward(t: nn.Tensor): nn.Tensor[] {
      const c = this.conv.forward(t);
      return [c, this.bn.forward(c)];
    }
  }
  const { out, weight } = await run(new ConvBn(), { x }, (m, { x: t }) => m.forward(t));
  const conv = ref.conv2d(ref.arr(x.data, x.shape), weight('conv.weight'), weight('conv.bias'), 2, 1);
  close(out.output_0, conv.data);
  close(out.output_1, ref.batchNorm(conv, weight('bn.weight'), weight('bn.bias'), weight('bn.runningMean'), weight('bn.runningVar'), 1e-5).data);
});

test('MaxPool2d, AvgPool2d (padding counted like PyTorch) and AdaptiveAvgPool2d(1)', async () => {
  const x = { data: wave(1 * 2 * 6 * 6), shape: [1, 2, 6, 6] };
  class Pools extends nn.Module {
    max = new nn.MaxPool2d(3, { stride: 2, padding: 1 });
    avg = new nn.AvgPool2d(3, { stride: 2, padding: 1 });
    global = new nn.AdaptiveAvgPool2d(1);
    forward(t: nn.Tensor): nn.Tensor[] {
      return [this.max.forward(t), this.avg.forward(t), this.global.forward(t)];
    }
  }
  const { out } = await run(new Pools(), { x }, (m, { x: t }) => m.forward(t));
  const a = ref.arr(x.data, x.shape);
  close(out.output_0, ref.pool2d(a, 'max', 3, 2, 1).data);
  close(out.output_1, ref.pool2d(a, 'avg', 3, 2, 1).data);
  close(out.output_2, ref.pool2d(a, 'avg', 6, 6, 0).data);
});

test('GELU (erf and tanh), SiLU, ReLU, Softmax', async () => {
  const x = { data: wave(4 * 8, 0.7, 3), shape: [4, 8] };
  class Acts extends nn.Module {
    gelu = new nn.GELU();
    geluTanh = new nn.GELU('tanh');
    silu = new nn.SiLU();
    relu = new nn.ReLU();
    softmax = new nn.Softmax(-1);
    forward(t: nn.Tensor): nn.Tensor[] {
      return [this.gelu.forward(t), this.geluTanh.forward(t), this.silu.forward(t), this.relu.forward(t), this.softmax.forward(t)];
    }
  }
  const { out } = await run(new Acts(), { x }, (m, { x: t }) => m.forward(t));
  const a = ref.arr(x.data, x.shape);
  close(out.output_0, ref.map(a, ref.geluErf).data, 1e-5);
  close(out.output_1, ref.map(a, ref.geluTanh).data, 1e-5);
  close(out.output_2, ref.map(a, ref.silu).data, 1e-5);
  close(out.output_3, ref.map(a, (v) => Math.max(0, v)).data);
  close(out.output_4, ref.softmax(a).data, 1e-5);
});

test('rotary embedding after cached positions', async () => {
  const x = { data: wave(1 * 2 * 3 * 8), shape: [1, 2, 3, 8] };
  const past = { data: wave(1 * 2 * 4 * 8), shape: [1, 2, 4, 8] };
  const rope = new nn.RotaryEmbedding(8, { base: 10000 });
  class Holder extends nn.Module {
    rope = rope;
  }
  const { out } = await run(new Holder(), { x, past }, (m, { x: t, past: p }) => {
    const pastLen = t.graph.op('Squeeze', [t.graph.op('Shape', [p], { dtype: 'int64', shape: [1] }, { start: { kind: 'int', value: 2 }, end: { kind: 'int', value: 3 } }), t.graph.int64s([0])], { dtype: 'int64', shape: [] });
    return m.rope.forward(t, pastLen);
  });
  const expected: number[] = [];
  for (let h = 0; h < 2; h++) for (let i = 0; i < 3; i++) {
    const off = (h * 3 + i) * 8;
    expected.push(...ref.rope(Float64Array.from(x.data.slice(off, off + 8)), 4 + i, 10000));
  }
  close(out.output, expected, 1e-5);
});

const B = 2, T = 5, H = 4, KV = 2, D = 16; // fused RoPE in ORT needs a head dim multiple of 16

for (const impl of ['explicit', 'fused'] as const) {
  test(`causal GQA attention with RoPE, ${impl} form, prefill`, async () => {
    const q = { data: wave(B * T * H * D, 0.31), shape: [B, T, H * D] };
    const k = { data: wave(B * T * KV * D, 0.53), shape: [B, T, KV * D] };
    const v = { data: wave(B * T * KV * D, 0.71), shape: [B, T, KV * D] };
    class Holder extends nn.Module {
      rotary = new nn.RotaryEmbedding(D, { base: 10000 });
    }
    const { out } = await run(new Holder(), { q, k, v }, (m, xs) => ({
      y: nn.causalAttention(xs.q, xs.k, xs.v, { heads: H, kvHeads: KV, rotary: m.rotary, impl }),
    }));
    const expected: number[] = [];
    for (let b = 0; b < B; b++) {
      const slice = (f: Feed, w: number) => Float64Array.from(f.data.slice(b * T * w, (b + 1) * T * w));
      expected.push(...ref.attention(slice(q, H * D), slice(k, KV * D), slice(v, KV * D), T, H, KV, D, { ropeBase: 10000 }));
    }
    close(out.y, expected, 1e-4);
  });

  test(`MQA attention over a KV cache, ${impl} form, one decode step`, async () => {
    const P = 3, kvHeads = 1;
    const q = { data: wave(1 * 1 * H * D, 0.31), shape: [1, 1, H * D] };
    const k = { data: wave(1 * 1 * kvHeads * D, 0.53), shape: [1, 1, kvHeads * D] };
    const v = { data: wave(1 * 1 * kvHeads * D, 0.71), shape: [1, 1, kvHeads * D] };
    const pastK = wave(P * kvHeads * D, 0.23); // [B=1, Hkv=1, P, d] is the same order as [P, Hkv*d] for one head
    const pastV = wave(P * kvHeads * D, 0.29);
    class Holder extends nn.Module {}
    const specs = { q, k, v };
    const { out, model } = await (async () => {
      const built = traceModel(new Holder(), {
        q: nn.input(q.shape), k: nn.input(k.shape), v: nn.input(v.shape),
      }, (_m, xs) => {
        const cache = nn.KVCache.decode({ layers: 1, kvHeads, headDim: D });
        return { y: nn.causalAttention(xs.q, xs.k, xs.v, { heads: H, kvHeads, cache, layer: 0, impl }) };
      }, { materialize: true });
      const session = await ort.InferenceSession.create(encodeModel(built.model));
      const feeds: Record<string, ort.Tensor> = {
        'past_key_values.0.key': new ort.Tensor('float32', Float32Array.from(pastK), [1, kvHeads, P, D]),
        'past_key_values.0.value': new ort.Tensor('float32', Float32Array.from(pastV), [1, kvHeads, P, D]),
      };
      for (const [name, f] of Object.entries(specs)) feeds[name] = new ort.Tensor('float32', Float32Array.from(f.data), f.shape);
      const result = await session.run(feeds);
      const o: Record<string, Float64Array> = {};
      for (const [name, t] of Object.entries(result)) o[name] = Float64Array.from(t.data as Float32Array);
      return { out: o, model: built.model };
    })();
    const expected = ref.attention(Float64Array.from(q.data), Float64Array.from(k.data), Float64Array.from(v.data), 1, H, kvHeads, D,
      { pastK: Float64Array.from(pastK), pastV: Float64Array.from(pastV), past: P });
    close(out.y, expected, 1e-4);
    assert.deepEqual(Array.from(out['present.0.key'].slice(0, P * D)), Array.from(Float32Array.from(pastK)));
    assert.equal(model.graph.outputs.find((o) => o.name === 'present.0.key')?.shape?.[2], 'past_sequence+1');
  });
}

test('bidirectional scaled dot-product attention (ViT form)', async () => {
  const q = { data: wave(1 * 2 * 3 * 4, 0.3), shape: [1, 2, 3, 4] };
  const k = { data: wave(1 * 2 * 3 * 4, 0.5), shape: [1, 2, 3, 4] };
  const v = { data: wave(1 * 2 * 3 * 4, 0.7), shape: [1, 2, 3, 4] };
  const { out } = await run(new (class extends nn.Module {})(), { q, k, v }, (_m, xs) => nn.scaledDotProductAttention(xs.q, xs.k, xs.v, { causal: false }));
  // Reference in [T, H*d] layout: transpose the [H, T, d] inputs.
  const toRows = (f: Feed) => Float64Array.from({ length: 24 }, (_, i) => {
    const t = Math.floor(i / 8), h = Math.floor((i % 8) / 4), e = i % 4;
    return f.data[(h * 3 + t) * 4 + e];
  });
  const rows = ref.attention(toRows(q), toRows(k), toRows(v), 3, 2, 2, 4, { causal: false });
  const expected = Float64Array.from({ length: 24 }, (_, i) => {
    const h = Math.floor(i / 12), t = Math.floor((i % 12) / 4), e = i % 4;
    return rows[t * 8 + h * 4 + e];
  });
  close(out.output, expected, 1e-5);
});

test('cross-entropy over [B, T, V] logits', async () => {
  const logits = { data: wave(2 * 3 * 7, 0.9, 2), shape: [2, 3, 7] };
  const labels = [1, 6, 0, 3, 3, 2];
  const { out } = await run(new (class extends nn.Module {})(), { logits, labels: { data: labels, shape: [2, 3], dtype: 'int64' } },
    (_m, xs) => ({ loss: nn.crossEntropy(xs.logits, xs.labels) }), { mode: 'train' });
  close(out.loss, [ref.crossEntropy(ref.arr(logits.data, [6, 7]), labels)], 1e-5);
});

test('quantized Linear: int8 per channel, int8 grouped, int4 blocks match the dequantized weights', async () => {
  const x = { data: wave(3 * 32, 0.41), shape: [3, 32] };
  for (const [kind, groupSize] of [['int8', undefined], ['int8', 16], ['int4', 16]] as const) {
    const layer = nn.quantize(new nn.Linear(32, 6), kind, groupSize ? { groupSize } : {});
    const { out, model } = await run(layer, { x }, (m, { x: t }) => m.forward(t));
    const init = (n: string) => model.graph.initializers.get(n)!;
    const q = init('weight_quantized');
    const scales = decodeValues('float32', init('weight_scale').raw!);
    const w = new Float64Array(6 * 32);
    if (kind === 'int4') {
      const bytes = q.raw!;
      for (let i = 0; i < w.length; i++) {
        const code = i % 2 === 0 ? bytes[i >> 1] & 0xf : bytes[i >> 1] >> 4;
        w[i] = (code - 8) * scales[Math.floor(i / 16)];
      }
    } else {
      const codes = decodeValues('int8', q.raw!);
      for (let i = 0; i < w.length; i++) w[i] = codes[i] * scales[groupSize ? Math.floor(i / groupSize) : Math.floor(i / 32)];
    }
    const bias = decodeValues('float32', init('bias').raw!);
    close(out.output, ref.linear(ref.arr(x.data, x.shape), ref.arr(w, [6, 32]), ref.arr(bias, [6])).data, 1e-4);
    assert.equal(model.graph.initializers.has('weight'), false, `${kind}: the float weight is not stored`);
  }
});
