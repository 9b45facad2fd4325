// Low-rank adapters beside frozen weights (LoRA): y = x·W + (x·A)·B with A [K, r], B [r, N];
// every original float parameter is frozen (model metadata memlens.frozen), only A and B train.
import type { GraphNode, Model } from '../graph';
import { FROZEN_KEY } from '../metadata-keys';
import { MemlensError } from '../errors';
import { freshName, usedNames } from './clone';
import { weightUses } from './quantize-weights';

export function addLora(model: Model, weights: string[], rank: number): void {
  const g = model.graph;
  const taken = usedNames(model);
  const frozen = new Set<string>(existingFrozen(model));
  for (const [name, init] of g.initializers) {
    if (init.dtype === 'float32' || init.dtype === 'float16' || init.dtype === 'bfloat16') frozen.add(name);
  }
  for (const w of weights) {
    const uses = weightUses(model, w);
    if (!uses) throw new MemlensError(`rewrite: ${w} is not a weight used only by MatMul/Gemm`);
    const init = g.initializers.get(w)!;
    for (const u of uses) {
      const [k, n] = u.layout === 'KN' ? init.dims : [init.dims[1], init.dims[0]];
      const a = freshName(model, `${w}.lora_A`, taken);
      const b = freshName(model, `${w}.lora_B`, taken);
      // Declared by shape; the runner fills them (B starts at zero in training, which changes no memory).
      g.initializers.set(a, { name: a, dtype: init.dtype, dims: [k, rank], external: false });
      g.initializers.set(b, { name: b, dtype: init.dtype, dims: [rank, n], external: false });
      const node = u.node;
      const out = node.outputs[0];
      const base = freshName(model, `${out}_base`, taken);
      const xa = freshName(model, `${out}_lora_a`, taken);
      const xab = freshName(model, `${out}_lora_ab`, taken);
      node.outputs[0] = base;
      const mk = (op: string, inputs: string[], o: string): GraphNode => ({
        name: freshName(model, `${node.name}_lora_${op}`, taken), opType: op, domain: '', inputs, outputs: [o], attributes: {}, metadata: { ...node.metadata },
      });
      const pos = g.nodes.indexOf(node);
      g.nodes.splice(pos + 1, 0, mk('MatMul', [node.inputs[0], a], xa), mk('MatMul', [xa, b], xab), mk('Add', [base, xab], out));
    }
  }
  model.metadata[FROZEN_KEY] = JSON.stringify([...frozen].sort());
}

function existingFrozen(model: Model): string[] {
  try {
    const v = JSON.parse(model.metadata[FROZEN_KEY] ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}
