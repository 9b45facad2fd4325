// KV cache kept in host memory, streamed one layer at a time (as offloaded caches do, e.g.
// Hugging Face's OffloadedCache): a layer's past cache is copied in while the previous layer
// computes (prefetch) and dropped after its last use; the cache a layer writes is copied out
// while the next layer computes (the last layer's while the rest of the graph runs). So at most
// two layers' caches are on the device at any step.
import type { Buffer } from './buffers';
import type { TensorRecord, TensorTable } from './tensor-table';

/** The layer a KV tensor belongs to: the first number in its name (`past_key_values.3.key`). */
function layerOf(name: string): string {
  return name.match(/\d+/)?.[0] ?? name;
}

const firstUse = (t: TensorRecord) => (t.producer >= 0 ? t.producer : t.consumers[0] ?? 0);
const lastUse = (t: TensorRecord) => Math.max(t.producer, t.consumers[t.consumers.length - 1] ?? t.producer);

/** Shortens the device lifetime of every KV-cache buffer to its layer's window. */
export function offloadKvWindows(table: TensorTable, bufferOf: (tensor: string) => Buffer | undefined): void {
  const layers = new Map<string, TensorRecord[]>();
  for (const t of table.tensors.values()) {
    if (t.category !== 'kvCache' || t.bytes === 0) continue;
    const key = layerOf(t.name);
    if (!layers.has(key)) layers.set(key, []);
    layers.get(key)!.push(t);
  }
  const ordered = [...layers.values()]
    .map((members) => ({ members, start: Math.min(...members.map(firstUse)) }))
    .sort((a, b) => a.start - b.start);
  ordered.forEach(({ members, start }, i) => {
    const previous = i > 0 ? ordered[i - 1].start : start;
    const next = i + 1 < ordered.length ? ordered[i + 1].start : table.nodes.length - 1;
    for (const t of members) {
      const b = bufferOf(t.name);
      if (!b || b.category !== 'kvCache') continue;
      if (t.producer < 0) {
        b.start = Math.min(previous, firstUse(t));
        b.end = lastUse(t);
      } else {
        b.end = Math.max(lastUse(t), next);
      }
      b.persistent = false;
    }
  });
}
