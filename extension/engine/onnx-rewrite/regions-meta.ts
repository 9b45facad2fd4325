// Checkpoint and offload regions as node metadata (the form the memory model and the
// TypeScript tracer share).
import type { Model } from '../graph';
import { CHECKPOINT_KEY, OFFLOAD_KEY } from '../metadata-keys';
import { MemlensError } from '../errors';

export function markRegions(model: Model, key: 'checkpoint' | 'offload', regions: { id: string; nodes: string[] }[]): void {
  const meta = key === 'checkpoint' ? CHECKPOINT_KEY : OFFLOAD_KEY;
  const byName = new Map(model.graph.nodes.map((n) => [n.name, n]));
  for (const r of regions) {
    for (const name of r.nodes) {
      const node = byName.get(name);
      if (!node) throw new MemlensError(`rewrite: node '${name}' is not in the graph`);
      node.metadata[meta] = r.id;
    }
  }
}
