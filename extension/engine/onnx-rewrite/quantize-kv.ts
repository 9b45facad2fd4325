// KV-cache quantization: past key/value inputs arrive quantized and are dequantized before use;
// present key/value outputs are quantized as they are written. One scale per tensor (the
// figure that matters for memory; per-head or per-token scales add a few bytes per row).
import type { DType, GraphNode, Model } from '../graph';
import { isKvName, KV_KEY } from '../memory/kv';
import { MemlensError } from '../errors';
import { freshName, usedNames } from './clone';
import type { KvFormat } from './rewrite-types';
import { encodeValues } from '../onnx/raw-data';

export const KV_DTYPE: Record<KvFormat, DType> = { int8: 'int8', fp8: 'float8e4m3fn', int4: 'int4' };
/** ai.onnx opset that first allows (De)QuantizeLinear on the format. */
export const KV_MIN_OPSET: Record<KvFormat, number> = { int8: 13, fp8: 19, int4: 21 };

/** Names of the KV-cache tensors: graph inputs and outputs the memory model counts as the cache. */
export function kvTensors(model: Model): { past: string[]; present: string[] } {
  const g = model.graph;
  const tagged = new Set<string>();
  for (const n of g.nodes) if (n.metadata[KV_KEY] !== undefined) n.outputs.forEach((o) => o && tagged.add(o));
  const isFloat = (d: DType) => d === 'float32' || d === 'float16' || d === 'bfloat16';
  const past = g.inputs.filter((i) => isKvName(i.name) && isFloat(i.dtype)).map((i) => i.name);
  const present = g.outputs.filter((o) => (tagged.has(o.name) || isKvName(o.name))).map((o) => o.name);
  return { past, present };
}

/** The KV-cache tensors; a clear error when the model has none. */
export function requireKvCache(model: Model): { past: string[]; present: string[] } {
  const kv = kvTensors(model);
  if (kv.past.length === 0 && kv.present.length === 0) throw new MemlensError('rewrite: the model has no KV cache (no past/present key/value tensors)');
  return kv;
}

export function quantizeKv(model: Model, format: KvFormat, options: { checkOpset: boolean }): void {
  const opset = model.opsets[''] ?? 0;
  if (options.checkOpset && opset < KV_MIN_OPSET[format]) {
    throw new MemlensError(`${format} KV cache needs ai.onnx opset ${KV_MIN_OPSET[format]} or newer (the model imports opset ${opset})`);
  }
  const { past, present } = requireKvCache(model);
  const g = model.graph;
  const dtype = KV_DTYPE[format];
  const taken = usedNames(model);
  const scale = freshName(model, 'kv_cache_scale', taken);
  const zero = freshName(model, 'kv_cache_zero_point', taken);
  // A fixed per-tensor scale; real deployments calibrate it (or keep one per head).
  g.initializers.set(scale, { name: scale, dtype: 'float32', dims: [], raw: encodeValues('float32', [1 / 16]), external: false });
  g.initializers.set(zero, { name: zero, dtype, dims: [], raw: new Uint8Array(1), external: false });
  for (const name of past) {
    const input = g.inputs.find((i) => i.name === name)!;
    const deq = freshName(model, `${name}_dequantized`, taken);
    for (const n of g.nodes) n.inputs = n.inputs.map((x) => (x === name ? deq : x));
    const consumer = g.nodes.findIndex((n) => n.inputs.includes(deq));
    input.dtype = dtype;
    g.nodes.splice(Math.max(0, consumer), 0, {
      name: freshName(model, `${name}_DequantizeLinear`, taken), opType: 'DequantizeLinear', domain: '',
      inputs: [name, scale, zero], outputs: [deq], attributes: {}, metadata: consumer >= 0 ? { ...pickSource(g.nodes[consumer].metadata) } : {},
    });
  }
  for (const name of present) {
    const pos = g.nodes.findIndex((n) => n.outputs.includes(name));
    if (pos < 0) continue;
    const producer = g.nodes[pos];
    const float = freshName(model, `${name}_float`, taken);
    producer.outputs = producer.outputs.map((o) => (o === name ? float : o));
    const meta = { ...producer.metadata };
    delete producer.metadata[KV_KEY];
    const quantize: GraphNode = {
      name: freshName(model, `${name}_QuantizeLinear`, taken), opType: 'QuantizeLinear', domain: '',
      inputs: [float, scale, zero], outputs: [name], attributes: {}, metadata: meta,
    };
    // Attention in this step reads the cache back through DequantizeLinear, as a quantized cache
    // does. That also puts the QuantizeLinear on the path to the logits: left as a leaf, ONNX
    // Runtime's order runs it last and the float copy of every layer's cache lives to the end.
    const readers = g.nodes.filter((n) => n.inputs.includes(name));
    const added: GraphNode[] = [quantize];
    if (readers.length > 0) {
      const back = freshName(model, `${name}_dequantized`, taken);
      for (const n of readers) n.inputs = n.inputs.map((x) => (x === name ? back : x));
      added.push({
        name: freshName(model, `${name}_DequantizeLinear`, taken), opType: 'DequantizeLinear', domain: '',
        inputs: [name, scale, zero], outputs: [back], attributes: {}, metadata: pickSource(meta),
      });
    }
    g.nodes.splice(pos + 1, 0, ...added);
    const out = g.outputs.find((o) => o.name === name)!;
    out.dtype = dtype;
  }
}

function pickSource(md: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['memlens.file', 'memlens.line', 'memlens.column', 'memlens.scope']) if (md[k] !== undefined) out[k] = md[k];
  return out;
}
