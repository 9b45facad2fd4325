// PyTorch's views: ops whose result shares its input's storage (aten transpose/permute, view,
// squeeze/unsqueeze, expand, slice/narrow/split). In training the memory model follows PyTorch,
// so these outputs take no bytes of their own, and a saved view keeps its base's storage alive
// (autograd saves the view; the storage is the base's).
import type { TensorTable } from './tensor-table';

const TORCH_VIEW_OPS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Transpose', 'Expand', 'Slice', 'Split']);

/**
 * Whether node `pos` makes a view of its first input in PyTorch. A Reshape or Flatten of a
 * transposed tensor is not one: the exporter drops `.contiguous()`, and `reshape` of permuted
 * strides copies (aten::reshape falls back to clone when `view` is impossible).
 */
export function isTorchView(table: TensorTable, pos: number): boolean {
  const node = table.nodes[pos];
  if (!TORCH_VIEW_OPS.has(node.opType) || !node.inputs[0]) return false;
  if (node.opType !== 'Reshape' && node.opType !== 'Flatten') return true;
  const producer = table.tensors.get(node.inputs[0])?.producer;
  return producer === null || producer === undefined || table.nodes[producer].opType !== 'Transpose';
}

/** The tensor whose storage `name` shares in PyTorch: itself unless it is a view, else its base's root. */
export function storageRoot(table: TensorTable, name: string): string {
  let current = name;
  for (let guard = 0; guard < table.nodes.length; guard++) {
    const producer = table.tensors.get(current)?.producer;
    if (producer === null || producer === undefined || !isTorchView(table, producer)) return current;
    current = table.nodes[producer].inputs[0];
  }
  return current;
}
