// Module scopes from node origins, and the layer loops among them: scopes whose path has a
// numeric segment (`blocks.3.attn`, `/model/layers.3/self_attn`, `/layer1/layer1.0/conv1`) are
// iterations of a loop over `<prefix>.<i>`.
import type { NodeOrigin } from '../graph';

/** `blocks.3.attn` and `/model/layers.3/attn` -> segments; module paths use '.', torch names '/'. */
export function scopeSegments(scope: string): string[] {
  return scope.split(/[./]/).filter(Boolean);
}

export interface Layer {
  /** Display path, `blocks.3`. */
  scope: string;
  index: number;
  /** Node positions (execution order) inside the layer. */
  nodes: number[];
}

export interface LayerLoop {
  /** Display path of the container, `blocks`. */
  prefix: string;
  layers: Layer[];
  /** Child module names seen inside every layer (`attn`, `mlp`), in first-seen order. */
  children: string[];
}

/** Node positions of `child` (a direct child module name) within a layer. */
export function childNodes(loop: LayerLoop, layer: Layer, child: string, origins: NodeOrigin[]): number[] {
  const depth = scopeSegments(loop.prefix).length + 1;
  return layer.nodes.filter((pos) => scopeSegments(origins[pos].scope)[depth] === child);
}

export function layerLoops(origins: NodeOrigin[]): LayerLoop[] {
  const loops = new Map<string, Map<number, number[]>>();
  const childSeen = new Map<string, Map<number, Set<string>>>();
  origins.forEach((o, pos) => {
    const segs = scopeSegments(o.scope);
    const j = segs.findIndex((s, i) => i > 0 && /^\d+$/.test(s));
    if (j < 0) return;
    const prefix = segs.slice(0, j).join('.');
    const index = Number(segs[j]);
    const layers = loops.get(prefix) ?? new Map<number, number[]>();
    loops.set(prefix, layers);
    const list = layers.get(index) ?? [];
    list.push(pos);
    layers.set(index, list);
    if (segs.length > j + 1) {
      const per = childSeen.get(prefix) ?? new Map<number, Set<string>>();
      childSeen.set(prefix, per);
      const set = per.get(index) ?? new Set<string>();
      set.add(segs[j + 1]);
      per.set(index, set);
    }
  });
  const out: LayerLoop[] = [];
  for (const [prefix, layers] of loops) {
    if (layers.size < 2) continue;
    const sorted = [...layers.entries()].sort((a, b) => a[0] - b[0]);
    const per = childSeen.get(prefix);
    const first = per?.get(sorted[0][0]) ?? new Set<string>();
    const children = [...first].filter((c) => sorted.every(([i]) => per?.get(i)?.has(c)));
    out.push({
      prefix,
      layers: sorted.map(([index, nodes]) => ({ scope: `${prefix}.${index}`, index, nodes })),
      children,
    });
  }
  return out;
}
