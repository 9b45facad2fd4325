// Finds explicit attention: MatMul(q, kᵀ) → (Div | Mul by a constant)? → (Add mask | Where(mask,
// ·, -inf))? → Softmax(last axis) → MatMul(·, v), whose Softmax output is a rank-4 [B, H, T, S]
// score tensor, each intermediate used only by the next step.
import type { GraphNode, Model } from '../graph';
import type { AttentionSite } from '../onnx-rewrite/rewrite-types';
import type { AnalysisContext } from './context';

export function attentionSites(ctx: AnalysisContext): AttentionSite[] {
  const { table, shapes, model } = ctx;
  const users = (t: string): GraphNode[] => (table.tensors.get(t)?.consumers ?? []).map((p) => table.nodes[p]);
  const outputs = new Set(model.graph.outputs.map((o) => o.name));
  const single = (t: string): GraphNode | null => {
    const u = users(t);
    return u.length === 1 && !outputs.has(t) ? u[0] : null;
  };
  const sites: AttentionSite[] = [];
  table.nodes.forEach((mm) => {
    if (mm.opType !== 'MatMul' || mm.domain !== '') return;
    const chain = [mm];
    let t = mm.outputs[0];
    let next = single(t);
    let scale: number | null = null;
    if (next && (next.opType === 'Div' || next.opType === 'Mul')) {
      const other = next.inputs[0] === t ? next.inputs[1] : next.inputs[0];
      const c = scalarConstant(model, ctx, other);
      if (c === null || (next.opType === 'Div' && next.inputs[1] !== other)) return;
      scale = next.opType === 'Div' ? 1 / c : c;
      chain.push(next);
      t = next.outputs[0];
      next = single(t);
    }
    let mask: AttentionSite['mask'] = null;
    if (next && next.opType === 'Add') {
      mask = { kind: 'add', tensor: next.inputs[0] === t ? next.inputs[1] : next.inputs[0] };
      chain.push(next);
      t = next.outputs[0];
      next = single(t);
    } else if (next && next.opType === 'Where' && next.inputs[1] === t && isCausalMask(model, next.inputs[0])) {
      mask = { kind: 'where', tensor: next.inputs[0] };
      chain.push(next);
      t = next.outputs[0];
      next = single(t);
    }
    if (!next || next.opType !== 'Softmax') return;
    const axis = next.attributes.axis;
    const probs = shapes.get(next.outputs[0]);
    if (probs?.shape?.length !== 4) return;
    if (axis?.kind === 'int' && axis.value !== -1 && axis.value !== 3) return;
    chain.push(next);
    t = next.outputs[0];
    const pv = single(t);
    if (!pv || pv.opType !== 'MatMul' || pv.inputs[0] !== t) return;
    chain.push(pv);
    const q = shapes.get(mm.inputs[0]);
    const heads = q?.shape?.[1];
    const headDim = q?.shape?.[3];
    if (q?.shape?.length !== 4 || typeof heads !== 'number' || typeof headDim !== 'number') return;
    sites.push({
      scope: ctx.origins[ctx.position.get(mm.name)!].scope,
      nodes: chain.map((n) => n.name),
      q: mm.inputs[0], kT: mm.inputs[1], v: pv.inputs[1], output: pv.outputs[0],
      mask, scale, heads, headDim,
    });
  });
  return sites;
}

/** The value of a scalar constant (initializer or folded), or null. */
function scalarConstant(model: Model, ctx: AnalysisContext, name: string): number | null {
  const init = model.graph.initializers.get(name);
  if (init?.values && init.values.length === 1) return init.values[0];
  if (init?.raw && init.dims.reduce((a, b) => a * b, 1) === 1) {
    const v = new DataView(init.raw.buffer, init.raw.byteOffset, init.raw.byteLength);
    if (init.dtype === 'float32' && init.raw.byteLength >= 4) return v.getFloat32(0, true);
    if (init.dtype === 'float64' && init.raw.byteLength >= 8) return v.getFloat64(0, true);
  }
  const folded = ctx.shapes.get(name)?.value;
  if (folded && folded.length === 1) return folded[0];
  const producer = model.graph.nodes.find((n) => n.outputs[0] === name && n.opType === 'Constant');
  const attr = producer?.attributes.value;
  if (attr?.kind === 'tensor') return scalarConstant({ ...model, graph: { ...model.graph, initializers: new Map([[name, attr.value]]) } }, ctx, name);
  return null;
}

/** A keep-mask computed from a lower-triangular (Trilu upper=0) matrix: causal attention. */
function isCausalMask(model: Model, name: string): boolean {
  let t = name;
  for (let depth = 0; depth < 4; depth++) {
    const p = model.graph.nodes.find((n) => n.outputs.includes(t));
    if (!p) return false;
    if (p.opType === 'Trilu') return !(p.attributes.upper?.kind === 'int' && p.attributes.upper.value === 1);
    if (p.opType !== 'Cast' && p.opType !== 'Slice' && p.opType !== 'Unsqueeze' && p.opType !== 'Reshape') return false;
    t = p.inputs[0];
  }
  return false;
}
