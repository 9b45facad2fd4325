// Replaces an explicit softmax(QKᵀ)V chain with com.microsoft MultiHeadAttention, which never
// materialises the B·H·T·S score tensor (flash / memory-efficient kernels). MultiHeadAttention
// takes the query as [B, T, H·d] and keys/values as [B, H, S, d], so the query and output pass
// through a Transpose and a Reshape (views, no new memory).
import type { GraphNode, Model } from '../graph';
import { MemlensError } from '../errors';
import { freshName, usedNames } from './clone';
import { encodeValues } from '../onnx/raw-data';
import type { AttentionSite } from './rewrite-types';

const int = (value: number) => ({ kind: 'int' as const, value });
const ints = (value: number[]) => ({ kind: 'ints' as const, value });

export function fuseAttention(model: Model, sites: AttentionSite[]): void {
  model.opsets['com.microsoft'] = Math.max(model.opsets['com.microsoft'] ?? 1, 1);
  const taken = usedNames(model);
  for (const site of sites) fuseOne(model, site, taken);
}

function fuseOne(model: Model, site: AttentionSite, taken: Set<string>): void {
  const g = model.graph;
  const chain = site.nodes.map((name) => {
    const n = g.nodes.find((x) => x.name === name);
    if (!n) throw new MemlensError(`rewrite: attention node '${name}' is not in the graph`);
    return n;
  });
  const first = chain[0];
  const meta = { ...first.metadata };
  const mk = (op: string, inputs: string[], out: string, attrs: GraphNode['attributes'] = {}, domain = ''): GraphNode => ({
    name: freshName(model, `${first.name}_${op}`, taken), opType: op, domain, inputs, outputs: [out], attributes: attrs, metadata: { ...meta },
  });
  const shapeConst = (values: number[]) => {
    const name = freshName(model, `${first.name}_shape`, taken);
    g.initializers.set(name, { name, dtype: 'int64', dims: [values.length], values, raw: encodeValues('int64', values), external: false });
    return name;
  };
  const added: GraphNode[] = [];
  // Keys as [B, H, S, d]: undo the explicit transpose when it only fed this product.
  let key: string;
  const kTransposePos = g.nodes.findIndex((n) => n.outputs[0] === site.kT && n.opType === 'Transpose');
  const kTranspose = kTransposePos >= 0 ? g.nodes[kTransposePos] : undefined;
  const kUsers = g.nodes.filter((n) => n.inputs.includes(site.kT));
  const perm = kTranspose?.attributes.perm;
  if (kTranspose && kUsers.length === 1 && perm?.kind === 'ints' && perm.value.join() === '0,1,3,2') {
    key = kTranspose.inputs[0];
    g.nodes.splice(kTransposePos, 1);
  } else {
    key = freshName(model, `${site.kT}_bhsd`, taken);
    added.push(mk('Transpose', [site.kT], key, { perm: ints([0, 1, 3, 2]) }));
  }
  const qT = freshName(model, `${site.q}_bthd`, taken);
  const q3 = freshName(model, `${site.q}_bt_hd`, taken);
  added.push(mk('Transpose', [site.q], qT, { perm: ints([0, 2, 1, 3]) }));
  added.push(mk('Reshape', [qT, shapeConst([0, 0, -1])], q3));
  const o3 = freshName(model, `${site.output}_bt_hd`, taken);
  const attrs: GraphNode['attributes'] = { num_heads: int(site.heads) };
  if (site.scale !== null) attrs.scale = { kind: 'float', value: site.scale };
  const inputs = [q3, key, site.v];
  if (site.mask?.kind === 'add') inputs.push('', '', site.mask.tensor);
  if (site.mask?.kind === 'where') attrs.unidirectional = int(1);
  added.push(mk('MultiHeadAttention', inputs, o3, attrs, 'com.microsoft'));
  const o4 = freshName(model, `${site.output}_bthd`, taken);
  added.push(mk('Reshape', [o3, shapeConst([0, 0, site.heads, site.headDim])], o4));
  added.push(mk('Transpose', [o4], site.output, { perm: ints([0, 2, 1, 3]) }));
  // The fused op sits where the chain's last node was (all its inputs exist by then).
  const last = g.nodes.indexOf(chain[chain.length - 1]);
  g.nodes.splice(last, 1, ...added);
  for (const n of chain.slice(0, -1)) g.nodes.splice(g.nodes.indexOf(n), 1);
}
