// Eager PyTorch frees a tensor when its last Python reference goes, and a module's argument is
// referenced by the caller's frame for the whole call: nn.Sequential.forward's loop variable
// (`for module in self: input = module(input)`) and the callee's own parameter both hold it until
// the module returns. So a tensor passed into a module call lives until that call's last op, even
// when an earlier op inside read it last (torchvision's InvertedResidual keeps its block's input
// through the depthwise convolution).
//
// Module calls are read from the exporter's node names, which are the module path of the call
// (torch.onnx's scope names: /features/features.2/block/block.1/Conv).
import type { TensorTable } from './tensor-table';

/** The module path prefixes of a node name (`/a/b/Conv` -> `/a`, `/a/b`). */
function modulesOf(name: string): string[] {
  if (!name.startsWith('/')) return [];
  const parts = name.split('/').slice(1, -1);
  return parts.map((_p, i) => '/' + parts.slice(0, i + 1).join('/'));
}

/** Tensor -> forward position of the last op of the outermost module call it is passed into. */
export function heldByCallers(table: TensorTable): Map<string, number> {
  const modules = table.nodes.map((n) => modulesOf(n.name));
  const lastOf = new Map<string, number>();
  modules.forEach((ms, pos) => { for (const m of ms) lastOf.set(m, pos); });
  const held = new Map<string, number>();
  for (const t of table.tensors.values()) {
    if (t.producer === null) continue;
    const own = new Set(modules[t.producer]);
    let end = -1;
    for (const c of t.consumers) for (const m of modules[c]) if (!own.has(m)) end = Math.max(end, lastOf.get(m) ?? -1);
    if (end >= 0) held.set(t.name, end);
  }
  return held;
}
