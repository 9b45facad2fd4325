// What the model API's markers and state options write into the traced graph.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Model } from '../../../extension/engine/graph';
import { MemlensError } from '../../../extension/engine/errors';
import * as nn from '../../../language/typescript/api/nn';
import { traceModel } from '../../../language/typescript/api/trace-model';
import {
  MODEL_BUFFERS, MODEL_FROZEN, MODEL_KV_CACHE, MODEL_LOSS, MODEL_PARAMETERS, MODEL_TIED,
  TRACE_CHECKPOINT, TRACE_KV, TRACE_KV_LAYER, TRACE_OFFLOAD, TRACE_QUANT, TRACE_QUANT_PARAM,
} from '../../../language/typescript/api/trace-keys';

class Block extends nn.Module {
  fc1 = new nn.Linear(64, 128);
  fc2 = new nn.Linear(128, 64);
  forward(x: nn.Tensor): nn.Tensor {
    return x.add(this.fc2.forward(nn.gelu(this.fc1.forward(x))));
  }
}

class Stack extends nn.Module {
  blocks = [new Block(), new Block()];
  head = new nn.Linear(64, 10);
  forward(x: nn.Tensor): nn.Tensor {
    for (const b of this.blocks) x = b.forward(x);
    return this.head.forward(x);
  }
}

const x = { x: nn.input(['batch', 'sequence', 64]) };
const trace = (m: nn.Module, f = (mm: nn.Module, xs: Record<string, nn.Tensor>) => (mm as Stack).forward(xs.x)) => traceModel(m, x, f).model;
const json = <T>(m: Model, key: string): T => JSON.parse(m.metadata[key]) as T;

test('checkpoint(fn) tags every node inside with one region id, and only those', () => {
  const model = trace(new Stack(), (m, xs) => {
    const s = m as Stack;
    let h = xs.x;
    h = nn.checkpoint(() => s.blocks[0].forward(h));
    h = s.blocks[1].forward(h);
    return s.head.forward(h);
  });
  const tagged = model.graph.nodes.filter((n) => n.metadata[TRACE_CHECKPOINT] !== undefined);
  const block0 = model.graph.nodes.filter((n) => n.metadata['memlens.scope'].startsWith('blocks.0'));
  assert.ok(block0.length >= 8);
  assert.deepEqual(new Set(tagged.map((n) => n.name)), new Set([...block0.map((n) => n.name), ...tagged.filter((n) => n.metadata['memlens.scope'] === '').map((n) => n.name)]));
  assert.deepEqual(new Set(tagged.map((n) => n.metadata[TRACE_CHECKPOINT])), new Set(['0']));
  assert.ok(model.graph.nodes.filter((n) => n.metadata['memlens.scope'].startsWith('blocks.1')).every((n) => n.metadata[TRACE_CHECKPOINT] === undefined));
});

test('checkpoint(module) and offload(module) open a region per call', () => {
  const s = new Stack();
  nn.checkpoint(s.blocks[0]);
  nn.checkpoint(s.blocks[1]);
  nn.offload(s.head);
  const model = trace(s);
  const ids = (scope: string, key: string) => new Set(model.graph.nodes.filter((n) => n.metadata['memlens.scope'].startsWith(scope)).map((n) => n.metadata[key]));
  assert.deepEqual(ids('blocks.0', TRACE_CHECKPOINT), new Set(['0']));
  assert.deepEqual(ids('blocks.1', TRACE_CHECKPOINT), new Set(['1']));
  assert.deepEqual(ids('head', TRACE_OFFLOAD), new Set(['2']));
  assert.deepEqual(ids('head', TRACE_CHECKPOINT), new Set([undefined]));
});

test('quantize int4 replaces float weights with MatMulNBits blocks (com.microsoft)', () => {
  const s = nn.quantize(new Stack(), 'int4', { groupSize: 32 });
  const model = trace(s);
  const nbits = model.graph.nodes.filter((n) => n.opType === 'MatMulNBits');
  assert.equal(nbits.length, 5);
  assert.ok(nbits.every((n) => n.domain === 'com.microsoft' && n.metadata[TRACE_QUANT] === 'int4/g32'));
  assert.equal(model.opsets['com.microsoft'], 1);
  const fc1 = nbits.find((n) => n.metadata[TRACE_QUANT_PARAM] === 'blocks.0.fc1.weight')!;
  assert.deepEqual(fc1.attributes.block_size, { kind: 'int', value: 32 });
  const w = model.graph.initializers.get('blocks.0.fc1.weight_quantized')!;
  assert.deepEqual([w.dtype, w.dims], ['uint8', [128, 2, 16]]); // 128 x 64 weights, 4 bits each = 4096 bytes
  assert.equal(model.graph.initializers.has('blocks.0.fc1.weight'), false);
  assert.ok(json<string[]>(model, MODEL_PARAMETERS).includes('blocks.0.fc1.weight_quantized'));
  assert.ok(json<string[]>(model, MODEL_FROZEN).includes('blocks.0.fc1.weight_quantized'));
  assert.ok(json<string[]>(model, MODEL_BUFFERS).includes('blocks.0.fc1.weight_scale'));
});

test('quantize fp8 writes float8 weights with DequantizeLinear at opset 19 and moves Reduce axes to inputs', () => {
  class Normed extends nn.Module {
    norm = new nn.RMSNorm(64);
    fc = new nn.Linear(64, 64);
    forward(t: nn.Tensor): nn.Tensor {
      return this.fc.forward(this.norm.forward(t));
    }
  }
  const model = trace(nn.quantize(new Normed(), 'fp8'), (m, xs) => (m as Normed).forward(xs.x));
  assert.equal(model.opsets[''], 19);
  assert.equal(model.graph.initializers.get('fc.weight_quantized')!.dtype, 'float8e4m3fn');
  const mean = model.graph.nodes.find((n) => n.opType === 'ReduceMean')!;
  assert.equal(mean.attributes.axes, undefined);
  assert.equal(mean.inputs.length, 2);
});

test('tied weights are one parameter; frozen parameters are listed', () => {
  class Tied extends nn.Module {
    emb = new nn.Embedding(100, 16);
    out = new nn.Linear(16, 100, { bias: false });
    constructor() {
      super();
      this.out.weight = this.emb.weight;
      this.emb.freeze();
    }
    forward(ids: nn.Tensor): nn.Tensor {
      return this.out.forward(this.emb.forward(ids));
    }
  }
  const model = traceModel(new Tied(), { ids: nn.input(['batch', 'sequence'], 'int64') }, (m, xs) => m.forward(xs.ids)).model;
  assert.deepEqual(json(model, MODEL_PARAMETERS), ['emb.weight']);
  assert.deepEqual(json(model, MODEL_TIED), { 'out.weight': 'emb.weight' });
  assert.deepEqual(json(model, MODEL_FROZEN), ['emb.weight']);
  assert.equal(new Tied().numParameters(), 1600);
});

test('per-module dtype: a float16 layer casts its input and keeps float16 weights', () => {
  const s = new Stack();
  s.head.to('float16');
  const model = trace(s);
  assert.equal(model.graph.initializers.get('head.weight')!.dtype, 'float16');
  assert.equal(model.graph.initializers.get('blocks.0.fc1.weight')!.dtype, 'float32');
  const cast = model.graph.nodes.find((n) => n.opType === 'Cast' && n.metadata['memlens.scope'] === 'head');
  assert.deepEqual(cast?.attributes.to, { kind: 'int', value: 10 });
  assert.equal(model.graph.outputs[0].dtype, 'float16');
});

test('KV cache dtype int8: QuantizeLinear produces the tagged present; past inputs are int8', () => {
  class Attn extends nn.Module {
    qkv = new nn.Linear(64, 3 * 64);
    forward(t: nn.Tensor, cache: nn.KVCache): nn.Tensor {
      const [q, k, v] = this.qkv.forward(t).split(64, 2);
      return nn.causalAttention(q, k, v, { heads: 4, kvHeads: 4, cache, layer: 0 });
    }
  }
  const model = trace(new Attn(), (m, xs) => (m as Attn).forward(xs.x, new nn.KVCache({ layers: 1, kvHeads: 4, headDim: 16, dtype: 'int8', decode: true })));
  const kv = model.graph.nodes.filter((n) => n.metadata[TRACE_KV]);
  assert.deepEqual(kv.map((n) => [n.opType, n.metadata[TRACE_KV], n.metadata[TRACE_KV_LAYER]]), [['QuantizeLinear', 'key', '0'], ['QuantizeLinear', 'value', '0']]);
  assert.deepEqual(model.graph.inputs.find((i) => i.name === 'past_key_values.0.key'), { name: 'past_key_values.0.key', dtype: 'int8', shape: ['batch', 4, 'past_sequence', 16] });
  assert.deepEqual(json(model, MODEL_KV_CACHE), [
    { layer: 0, kind: 'key', past: 'past_key_values.0.key', present: 'present.0.key', dtype: 'int8' },
    { layer: 0, kind: 'value', past: 'past_key_values.0.value', present: 'present.0.value', dtype: 'int8' },
  ]);
});

test('training mode keeps Dropout with its mask and names the loss', () => {
  class Net extends nn.Module {
    fc = new nn.Linear(64, 10);
    drop = new nn.Dropout(0.1);
    forward(t: nn.Tensor, labels: nn.Tensor): Record<string, nn.Tensor> {
      return { loss: nn.crossEntropy(this.fc.forward(this.drop.forward(t)), labels) };
    }
  }
  const inputs = { x: nn.input(['batch', 'sequence', 64]), labels: nn.input(['batch', 'sequence'], 'int64') };
  const train = traceModel(new Net(), inputs, (m, xs) => m.forward(xs.x, xs.labels), { mode: 'train' }).model;
  assert.equal(train.graph.nodes.filter((n) => n.opType === 'Dropout').length, 1);
  assert.equal(train.metadata[MODEL_LOSS], 'loss');
  const infer = traceModel(new Net(), inputs, (m, xs) => m.forward(xs.x, xs.labels)).model;
  assert.equal(infer.graph.nodes.filter((n) => n.opType === 'Dropout').length, 0);
});

test('shape errors are MemlensErrors with both shapes', () => {
  class Bad extends nn.Module {
    fc = new nn.Linear(32, 8);
    forward(t: nn.Tensor): nn.Tensor {
      return this.fc.forward(t);
    }
  }
  assert.throws(() => trace(new Bad(), (m, xs) => (m as Bad).forward(xs.x)), (e: unknown) => e instanceof MemlensError && e.message === 'shape mismatch in linear: input [batch,sequence,64] has 64 features, weight expects 32');
  assert.throws(() => trace(new Stack(), (_m, xs) => xs.x.reshape(3, 5)), (e: unknown) => e instanceof MemlensError && /cannot resolve|cannot reshape/.test(e.message));
});
