// KV cache kept in host memory, streamed one layer at a time (as offloaded caches do, e.g.
// Hugging Face's OffloadedCache): a layer's past cache is copied in while the previous layer
// computes (prefetch) and dropped after its last use; the cache a layer writes is copied out
// while the next layer computes (the last layer's while the rest of the graph runs). So at most
// two layers' caches are on the device at any step.
import type { Buffer } from './buffer-types';
import type { Aliases } from './activations';
import type { TensorRecord, TensorTable } from './tensor-table';

/** The layer a KV tensor belongs to: the first number in its name (`past_key_values.3.key`). */
function layerOf(name: string): string {
  return name.match(/\d+/)?.[0] ?? name;
}

const firstUse = (t: TensorRecord) => t.producer ?? t.consumers[0] ?? 0;
const lastUse = (t: TensorRecord) => t.consumers[t.consumers.length - 1] ?? t.producer ?? 0;

/** KV tensors grouped by layer, layers ordered by their first use. */
function kvLayers(table: TensorTable): { members: TensorRecord[]; start: number }[] {
  const layers = new Map<string, TensorRecord[]>();
  for (const t of table.tensors.values()) {
    if (t.category !== 'kvCache' || t.bytes === 0) continue;
    const key = layerOf(t.name);
    const list = layers.get(key) ?? [];
    list.push(t);
    layers.set(key, list);
  }
  return [...layers.values()]
    .map((members) => ({ members, start: Math.min(...members.map(firstUse)) }))
    .sort((a, b) => a.start - b.start);
}

/** Window on the device of each KV tensor's buffer root: a past cache from the previous layer's start, a written one until the next layer's. */
function kvWindows(table: TensorTable, aliases: Aliases): Map<string, { start?: number; end: number }> {
  const windows = new Map<string, { start?: number; end: number }>();
  const ordered = kvLayers(table);
  ordered.forEach(({ members, start }, i) => {
    const previous = i > 0 ? ordered[i - 1].start : start;
    const next = i + 1 < ordered.length ? ordered[i + 1].start : table.nodes.length - 1;
    for (const t of members) {
      const window = t.producer === null
        ? { start: Math.min(previous, firstUse(t)), end: lastUse(t) }
        : { end: Math.max(lastUse(t), next) };
      windows.set(aliases.rootOf(t.name), window); // the last member of a group decides, as it is written last
    }
  });
  return windows;
}

/** The tensor buffers with every KV-cache buffer's device lifetime shortened to its layer's window. */
export function kvOffloadPass(table: TensorTable, buffers: Buffer[], aliases: Aliases): Buffer[] {
  const windows = kvWindows(table, aliases);
  return buffers.map((b) => {
    const w = b.kind === 'tensor' && b.category === 'kvCache' ? windows.get(b.tensor) : undefined;
    if (!w) return b;
    return { ...b, start: w.start ?? b.start, end: w.end, persistent: false };
  });
}
