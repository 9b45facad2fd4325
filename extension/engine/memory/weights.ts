// Tensors no node produces: initializers, Constant outputs (held like initializers) and graph
// inputs. Each is live for the whole step sequence and attributed to its first reader.
import { nodeOwner, type Buffer } from './buffer-types';
import type { TensorTable } from './tensor-table';

export function weightAndInputBuffers(table: TensorTable, last: number): Buffer[] {
  const out: Buffer[] = [];
  for (const t of table.tensors.values()) {
    if (t.producer !== null) continue;
    out.push({
      bytes: t.bytes, category: t.category, start: 0, end: last, owner: nodeOwner(t.consumers[0]), persistent: true,
      kind: 'tensor', tensor: t.name,
    });
  }
  return out;
}
