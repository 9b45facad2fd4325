// Weight quantization of MatMul/Gemm weights:
//  int8  per output channel (DequantizeLinear, axis) or per group of `groupSize` inputs (Cast, Mul);
//  int4  blocks of `groupSize` inputs packed two per byte, consumed by com.microsoft MatMulNBits;
//  fp8   e4m3fn with one scale per tensor (DequantizeLinear, opset 19).
// Symmetric scales (max |w| / qmax); real codes when the float weights are in the file,
// declared by shape only otherwise (the runner fills such weights).
import type { DType, GraphNode, Initializer, Model } from '../graph';
import { MemlensError } from '../errors';
import { freshName, usedNames } from './clone';
import type { WeightFormat } from './rewrite-types';
import { encodeValues } from '../onnx/raw-data';
import { floatValues, packNibbles } from './values';

/** Node metadata: the quantization a node applies (`int8`, `int8/g128`, `int4/g32`, `fp8`). */
export const QUANT_KEY = 'memlens.quant';
export const QUANT_PARAM_KEY = 'memlens.quant.param';

export const DEFAULT_INT4_GROUP = 32;

/** How a weight is multiplied: x·W (W [K, N]) or x·Wᵀ (W [N, K], Gemm transB=1). */
export interface WeightUse {
  node: GraphNode;
  layout: 'KN' | 'NK';
}

const intAttr = (n: GraphNode, name: string, fallback: number): number => {
  const a = n.attributes[name];
  return a?.kind === 'int' ? a.value : fallback;
};
const floatAttr = (n: GraphNode, name: string, fallback: number): number => {
  const a = n.attributes[name];
  return a?.kind === 'float' ? a.value : fallback;
};

/** Every use of `weight` if all of them are matrix products by it (input B); null otherwise. */
export function weightUses(model: Model, weight: string): WeightUse[] | null {
  const init = model.graph.initializers.get(weight);
  if (!init || init.dims.length !== 2 || !isFloat(init.dtype)) return null;
  const uses: WeightUse[] = [];
  for (const node of model.graph.nodes) {
    const positions = node.inputs.flatMap((x, i) => (x === weight ? [i] : []));
    if (positions.length === 0) continue;
    if (positions.length !== 1 || positions[0] !== 1 || node.domain !== '') return null;
    if (node.opType === 'MatMul') uses.push({ node, layout: 'KN' });
    else if (node.opType === 'Gemm' && intAttr(node, 'transA', 0) === 0) uses.push({ node, layout: intAttr(node, 'transB', 0) ? 'NK' : 'KN' });
    else return null;
  }
  return uses.length ? uses : null;
}

function isFloat(d: DType): boolean {
  return d === 'float32' || d === 'float16' || d === 'bfloat16';
}

/** Bytes a weight of `elements` (K·N, N outputs) takes in a format: codes plus float32 scales. */
export function quantizedBytes(k: number, n: number, format: WeightFormat, groupSize: number | null): number {
  const codes = format === 'int4' ? Math.ceil((k * n) / 2) : k * n;
  const scales = format === 'fp8' ? 1 : groupSize ? n * Math.ceil(k / groupSize) : n;
  return codes + 4 * scales;
}

export function quantizeWeights(model: Model, weights: string[], format: WeightFormat, groupSize: number | null, options: { checkOpset: boolean } = { checkOpset: false }): void {
  const opset = model.opsets[''] ?? 0;
  if (options.checkOpset && format === 'fp8' && opset < 19) throw new MemlensError(`fp8 weights need ai.onnx opset 19 or newer (the model imports opset ${opset})`);
  if (format === 'int4') model.opsets['com.microsoft'] = Math.max(model.opsets['com.microsoft'] ?? 1, 1);
  const taken = usedNames(model);
  for (const w of weights) {
    const uses = weightUses(model, w);
    if (!uses) throw new MemlensError(`rewrite: ${w} is not a weight used only by MatMul/Gemm`);
    const init = model.graph.initializers.get(w)!;
    const layout = uses[0].layout;
    if (uses.some((u) => u.layout !== layout)) throw new MemlensError(`rewrite: ${w} is used with two layouts`);
    const [k, n] = layout === 'KN' ? init.dims : [init.dims[1], init.dims[0]];
    const values = floatValues(init);
    // Index of element (kk, nn) in the stored order.
    const at = (kk: number, nn: number) => (layout === 'KN' ? kk * n + nn : nn * k + kk);
    model.graph.initializers.delete(w);
    if (format === 'int4') quantizeInt4(model, taken, w, uses, k, n, groupSize ?? DEFAULT_INT4_GROUP, values, at);
    else quantizeDequant(model, taken, w, init, uses, layout, k, n, format, groupSize, values, at, opset);
  }
}

interface Blocked { codes: Int32Array; scales: Float64Array }

/** Symmetric codes per (output column, block of `block` inputs), stored [n][k]. */
function blockQuant(values: Float64Array | null, k: number, n: number, block: number, qmax: number, at: (kk: number, nn: number) => number): Blocked | null {
  if (!values) return null;
  const blocks = Math.ceil(k / block);
  const codes = new Int32Array(n * k);
  const scales = new Float64Array(n * blocks);
  for (let nn = 0; nn < n; nn++) {
    for (let b = 0; b < blocks; b++) {
      let m = 0;
      for (let kk = b * block; kk < Math.min(k, (b + 1) * block); kk++) m = Math.max(m, Math.abs(values[at(kk, nn)]));
      const s = m > 0 ? m / qmax : 1;
      scales[nn * blocks + b] = s;
      for (let kk = b * block; kk < Math.min(k, (b + 1) * block); kk++) {
        codes[nn * k + kk] = Math.max(-qmax - 1, Math.min(qmax, Math.round(values[at(kk, nn)] / s)));
      }
    }
  }
  return { codes, scales };
}

function addInit(model: Model, init: Initializer): void {
  model.graph.initializers.set(init.name, init);
}

function quantizeInt4(model: Model, taken: Set<string>, w: string, uses: WeightUse[], k: number, n: number, block: number, values: Float64Array | null, at: (kk: number, nn: number) => number): void {
  if (block < 16 || (block & (block - 1)) !== 0) throw new MemlensError(`int4: group size must be a power of two >= 16, got ${block}`);
  const blocks = Math.ceil(k / block);
  const q = blockQuant(values, k, n, block, 7, at);
  const qName = freshName(model, `${w}_int4`, taken);
  const sName = freshName(model, `${w}_scale`, taken);
  let packed: Uint8Array | undefined;
  if (q) {
    // [N, blocks, block/2]: each column's K values, zero-padded to whole blocks, offset by 8 (the default zero point).
    const padded = new Int32Array(n * blocks * block).fill(8);
    for (let nn = 0; nn < n; nn++) for (let kk = 0; kk < k; kk++) padded[nn * blocks * block + kk] = q.codes[nn * k + kk] + 8;
    packed = packNibbles(padded);
  }
  addInit(model, { name: qName, dtype: 'uint8', dims: [n, blocks, block / 2], raw: packed, external: false });
  addInit(model, { name: sName, dtype: 'float32', dims: [n * blocks], raw: q ? encodeValues('float32', q.scales) : undefined, external: false });
  for (const u of uses) {
    const node = u.node;
    const tag = { ...node.metadata, [QUANT_KEY]: `int4/g${block}`, [QUANT_PARAM_KEY]: w };
    const bias = node.opType === 'Gemm' ? node.inputs[2] : '';
    if (node.opType === 'Gemm' && (floatAttr(node, 'alpha', 1) !== 1 || floatAttr(node, 'beta', 1) !== 1)) {
      throw new MemlensError(`int4: Gemm ${node.name} scales its product (alpha/beta); not rewritten`);
    }
    const out = node.outputs[0];
    const product = bias ? freshName(model, `${out}_nobias`, taken) : out;
    const nbits: GraphNode = {
      name: freshName(model, `${node.name}_MatMulNBits`, taken), opType: 'MatMulNBits', domain: 'com.microsoft',
      inputs: [node.inputs[0], qName, sName], outputs: [product],
      attributes: { K: { kind: 'int', value: k }, N: { kind: 'int', value: n }, bits: { kind: 'int', value: 4 }, block_size: { kind: 'int', value: block } },
      metadata: tag,
    };
    const replacement = [nbits];
    if (bias) replacement.push({ name: freshName(model, `${node.name}_bias`, taken), opType: 'Add', domain: '', inputs: [product, bias], outputs: [out], attributes: {}, metadata: { ...node.metadata } });
    const i = model.graph.nodes.indexOf(node);
    model.graph.nodes.splice(i, 1, ...replacement);
  }
}

function quantizeDequant(
  model: Model, taken: Set<string>, w: string, init: Initializer, uses: WeightUse[], layout: 'KN' | 'NK',
  k: number, n: number, format: 'int8' | 'fp8', groupSize: number | null, values: Float64Array | null,
  at: (kk: number, nn: number) => number, opset: number,
): void {
  const scaleType: DType = init.dtype === 'float32' ? 'float32' : init.dtype;
  if (scaleType !== 'float32' && values) throw new MemlensError(`rewrite: ${w} is ${init.dtype}; only float32 weights are quantized with their values`);
  const nodes: GraphNode[] = [];
  const meta = { ...uses[0].node.metadata, [QUANT_KEY]: format === 'fp8' ? 'fp8' : groupSize ? `int8/g${groupSize}` : 'int8', [QUANT_PARAM_KEY]: w };
  const deq = freshName(model, `${w}_dequantized`, taken);
  const qName = freshName(model, `${w}_quantized`, taken);
  const sName = freshName(model, `${w}_scale`, taken);
  if (format === 'fp8') {
    let scale = 1;
    if (values) {
      // A loop, not a spread: weight tensors have millions of values.
      let absMax = 1e-12;
      for (const v of values) absMax = Math.max(absMax, Math.abs(v));
      scale = absMax / 448;
    }
    addInit(model, { name: qName, dtype: 'float8e4m3fn', dims: [...init.dims], raw: values ? encodeValues('float8e4m3fn', Array.from(values, (v) => v / scale)) : undefined, external: false });
    addInit(model, { name: sName, dtype: 'float32', dims: [], raw: encodeValues('float32', [scale]), external: false });
    nodes.push({ name: freshName(model, `${w}_DequantizeLinear`, taken), opType: 'DequantizeLinear', domain: '', inputs: [qName, sName], outputs: [deq], attributes: {}, metadata: meta });
  } else if (!groupSize || groupSize >= k) {
    const q = blockQuant(values, k, n, k, 127, at);
    // Codes back in the weight's own layout; one scale per output column.
    let codes: Int32Array | undefined;
    if (q) {
      codes = new Int32Array(k * n);
      for (let nn = 0; nn < n; nn++) for (let kk = 0; kk < k; kk++) codes[at(kk, nn)] = q.codes[nn * k + kk];
    }
    const axis = layout === 'KN' ? 1 : 0;
    addInit(model, { name: qName, dtype: 'int8', dims: [...init.dims], raw: codes ? encodeValues('int8', codes) : undefined, external: false });
    if (opset >= 13) {
      addInit(model, { name: sName, dtype: 'float32', dims: [n], raw: q ? encodeValues('float32', q.scales) : undefined, external: false });
      nodes.push({ name: freshName(model, `${w}_DequantizeLinear`, taken), opType: 'DequantizeLinear', domain: '', inputs: [qName, sName], outputs: [deq], attributes: { axis: { kind: 'int', value: axis } }, metadata: meta });
    } else {
      addInit(model, { name: sName, dtype: 'float32', dims: axis === 1 ? [1, n] : [n, 1], raw: q ? encodeValues('float32', q.scales) : undefined, external: false });
      const cast = freshName(model, `${w}_cast`, taken);
      nodes.push({ name: freshName(model, `${w}_Cast`, taken), opType: 'Cast', domain: '', inputs: [qName], outputs: [cast], attributes: { to: { kind: 'int', value: 1 } }, metadata: meta });
      nodes.push({ name: freshName(model, `${w}_Mul`, taken), opType: 'Mul', domain: '', inputs: [cast, sName], outputs: [deq], attributes: {}, metadata: meta });
    }
  } else {
    if (k % groupSize !== 0) throw new MemlensError(`int8: input features ${k} of ${w} are not a multiple of group size ${groupSize}`);
    const g = k / groupSize;
    const q = blockQuant(values, k, n, groupSize, 127, at);
    // Grouped layout [N, K/gs, gs] (or [K/gs, gs, N]) so that one Mul broadcasts the scales.
    const dims = layout === 'NK' ? [n, g, groupSize] : [g, groupSize, n];
    const sdims = layout === 'NK' ? [n, g, 1] : [g, 1, n];
    let codes: Int32Array | undefined;
    let scales: Float64Array | undefined;
    if (q) {
      codes = new Int32Array(k * n);
      scales = new Float64Array(n * g);
      for (let nn = 0; nn < n; nn++) {
        for (let kk = 0; kk < k; kk++) codes[at(kk, nn)] = q.codes[nn * k + kk];
        for (let b = 0; b < g; b++) scales[layout === 'NK' ? nn * g + b : b * n + nn] = q.scales[nn * g + b];
      }
    }
    addInit(model, { name: qName, dtype: 'int8', dims, raw: codes ? encodeValues('int8', codes) : undefined, external: false });
    addInit(model, { name: sName, dtype: 'float32', dims: sdims, raw: scales ? encodeValues('float32', scales) : undefined, external: false });
    const shapeName = freshName(model, `${w}_shape`, taken);
    addInit(model, { name: shapeName, dtype: 'int64', dims: [2], values: [...init.dims], raw: encodeValues('int64', init.dims), external: false });
    const cast = freshName(model, `${w}_cast`, taken);
    const prod = freshName(model, `${w}_grouped`, taken);
    nodes.push({ name: freshName(model, `${w}_Cast`, taken), opType: 'Cast', domain: '', inputs: [qName], outputs: [cast], attributes: { to: { kind: 'int', value: 1 } }, metadata: meta });
    nodes.push({ name: freshName(model, `${w}_Mul`, taken), opType: 'Mul', domain: '', inputs: [cast, sName], outputs: [prod], attributes: {}, metadata: meta });
    nodes.push({ name: freshName(model, `${w}_Reshape`, taken), opType: 'Reshape', domain: '', inputs: [prod, shapeName], outputs: [deq], attributes: {}, metadata: meta });
  }
  // Dequantize right before the first use so the float copy is short-lived.
  const first = Math.min(...uses.map((u) => model.graph.nodes.indexOf(u.node)));
  model.graph.nodes.splice(first, 0, ...nodes);
  for (const u of uses) u.node.inputs[1] = deq;
}
