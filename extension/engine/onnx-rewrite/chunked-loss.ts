// Chunked cross-entropy: the vocabulary projection and the loss run on `chunks` slices of the
// positions, each slice a checkpoint region, so only one slice's logits (N/chunks × V) exist at a
// time in forward and in backward (the idea of fused / chunked cross-entropy kernels).
// Supported chain: head MatMul/Gemm → (Reshape | Flatten | Cast | LogSoftmax | Softmax)* → loss
// (SoftmaxCrossEntropyLoss or NegativeLogLikelihoodLoss); row-wise ops only, so per-row slices agree.
import type { GraphNode, Model } from '../graph';
import { CHECKPOINT_KEY } from '../metadata-keys';
import { MemlensError } from '../errors';
import { freshName, usedNames } from './clone';
import { encodeValues } from '../onnx/raw-data';

const ROWWISE = new Set(['Reshape', 'Flatten', 'Cast', 'LogSoftmax', 'Softmax', 'Identity']);
const LOSSES = new Set(['SoftmaxCrossEntropyLoss', 'NegativeLogLikelihoodLoss']);

export interface LossChain {
  head: GraphNode;
  between: GraphNode[];
  loss: GraphNode;
}

/** The chain from a vocabulary projection to its loss, or null when it is not a supported shape. */
export function lossChain(model: Model, headName: string): LossChain | null {
  const g = model.graph;
  const head = g.nodes.find((n) => n.name === headName);
  if (!head || (head.opType !== 'MatMul' && head.opType !== 'Gemm') || head.domain !== '') return null;
  const outputs = new Set(g.outputs.map((o) => o.name));
  const between: GraphNode[] = [];
  let t = head.outputs[0];
  for (;;) {
    if (outputs.has(t)) return null;
    const users = g.nodes.filter((n) => n.inputs.includes(t));
    if (users.length !== 1) return null;
    const u = users[0];
    if (LOSSES.has(u.opType) && u.inputs[0] === t) {
      if (u.outputs.slice(1).some((o) => o && g.nodes.some((n) => n.inputs.includes(o)))) return null;
      if (u.attributes.ignore_index) return null; // a mean over kept rows differs per slice
      return { head, between, loss: u };
    }
    if (!ROWWISE.has(u.opType) || u.inputs[0] !== t) return null;
    const axis = u.attributes.axis;
    if ((u.opType === 'LogSoftmax' || u.opType === 'Softmax') && axis?.kind === 'int' && axis.value !== -1) return null;
    between.push(u);
    t = u.outputs[0];
  }
}

export function chunkLoss(model: Model, r: { chunks: number; head: string; loss: string }): void {
  const chain = lossChain(model, r.head);
  if (!chain || chain.loss.name !== r.loss) throw new MemlensError(`rewrite: no supported loss chain from '${r.head}' to '${r.loss}'`);
  const g = model.graph;
  const taken = usedNames(model);
  const { head, between, loss } = chain;
  const meta = head.metadata;
  const node = (op: string, inputs: string[], outputs: string[], attrs: GraphNode['attributes'] = {}, metadata = meta): GraphNode => ({
    name: freshName(model, `${head.name}_chunked_${op}`, taken), opType: op, domain: '', inputs, outputs, attributes: attrs, metadata: { ...metadata },
  });
  const konst = (values: number[], dtype: 'int64' | 'float32', dims: number[]) => {
    const name = freshName(model, `${head.name}_chunk_const`, taken);
    g.initializers.set(name, { name, dtype, dims, values: dtype === 'int64' ? values : undefined, raw: encodeValues(dtype, values), external: false });
    return name;
  };
  const weight = head.inputs[1];
  const winit = g.initializers.get(weight);
  const transB = head.attributes.transB?.kind === 'int' && head.attributes.transB.value === 1;
  const k = winit ? (transB ? winit.dims[1] : winit.dims[0]) : null;
  if (k === null) throw new MemlensError(`rewrite: the vocabulary projection '${head.name}' has no weight initializer`);
  const opset = model.opsets[''] ?? 0;
  const split = (x: string, chunks: number, what: string): { nodes: GraphNode[]; parts: string[] } => {
    const parts = Array.from({ length: chunks }, (_, i) => freshName(model, `${what}_chunk${i}`, taken));
    // Equal slices (the last one shorter when rows do not divide): Split with num_outputs (opset 18)
    // or by dividing the row count in a Shape chain would both work; equal split needs no sizes at all.
    const attrs: GraphNode['attributes'] = { axis: { kind: 'int', value: 0 } };
    if (opset >= 18) attrs.num_outputs = { kind: 'int', value: chunks };
    return { nodes: [node('Split', [x], parts, attrs)], parts };
  };
  const added: GraphNode[] = [];
  const x2 = freshName(model, `${head.inputs[0]}_rows`, taken);
  added.push(node('Reshape', [head.inputs[0], konst([-1, k], 'int64', [2])], [x2]));
  const labels = loss.inputs[1];
  const l1 = freshName(model, `${labels}_rows`, taken);
  added.push(node('Reshape', [labels, konst([-1], 'int64', [1])], [l1], {}, loss.metadata));
  const xs = split(x2, r.chunks, x2);
  const ls = split(l1, r.chunks, l1);
  added.push(...xs.nodes, ...ls.nodes);
  const losses: string[] = [];
  for (let i = 0; i < r.chunks; i++) {
    const region = `chunked-loss-${head.name}-${i}`;
    const tag = (n: GraphNode) => ((n.metadata[CHECKPOINT_KEY] = region), n);
    let t = freshName(model, `${head.outputs[0]}_chunk${i}`, taken);
    added.push(tag(node(head.opType, [xs.parts[i], ...head.inputs.slice(1)], [t], head.attributes)));
    for (const b of between) {
      if (b.opType === 'Reshape' || b.opType === 'Flatten' || b.opType === 'Identity') continue; // rows are already 2-D
      const o = freshName(model, `${b.outputs[0]}_chunk${i}`, taken);
      added.push(tag(node(b.opType, [t, ...b.inputs.slice(1)], [o], b.attributes, b.metadata)));
      t = o;
    }
    const li = freshName(model, `${loss.outputs[0]}_chunk${i}`, taken);
    added.push(tag(node(loss.opType, [t, ls.parts[i], ...loss.inputs.slice(2)], [li], { ...loss.attributes, reduction: { kind: 'string', value: 'sum' } }, loss.metadata)));
    losses.push(li);
  }
  const reduction = loss.attributes.reduction?.kind === 'string' ? loss.attributes.reduction.value : 'mean';
  if (reduction === 'none') throw new MemlensError(`rewrite: loss '${loss.name}' returns per-row losses; chunking keeps only summed or mean losses`);
  const total = freshName(model, `${loss.outputs[0]}_sum`, taken);
  added.push(node('Sum', losses, [reduction === 'mean' ? total : loss.outputs[0]], {}, loss.metadata));
  if (reduction === 'mean') {
    // Mean over all rows: sum of slice sums divided by the row count (Size of the labels).
    const count = freshName(model, `${labels}_count`, taken);
    const countF = freshName(model, `${labels}_count_f`, taken);
    added.push(node('Size', [l1], [count], {}, loss.metadata));
    added.push(node('Cast', [count], [countF], { to: { kind: 'int', value: 1 } }, loss.metadata));
    added.push(node('Div', [total, countF], [loss.outputs[0]], {}, loss.metadata));
  }
  const removed = new Set([head, ...between, loss]);
  const at = g.nodes.indexOf(loss);
  g.nodes.splice(at, 1, ...added);
  g.nodes = g.nodes.filter((n) => !removed.has(n));
}
