// Where a node came from, in order of trust: MemLens's own metadata, PyTorch's dynamo stack
// trace (innermost user frame), then the module scope encoded in the node name.
import type { GraphNode, NodeOrigin, SourceLocation } from '../graph';
import {
  MEMLENS_COLUMN, MEMLENS_FILE, MEMLENS_LINE, MEMLENS_SCOPE, TORCH_NAME_SCOPES, TORCH_STACK_TRACE,
} from '../metadata-keys';

export function nodeOrigin(node: GraphNode): NodeOrigin {
  const md = node.metadata;
  const scope = md[MEMLENS_SCOPE] ?? torchScope(md[TORCH_NAME_SCOPES]) ?? scopeFromName(node.name);
  if (md[MEMLENS_FILE] && md[MEMLENS_LINE]) {
    const source: SourceLocation = { file: md[MEMLENS_FILE], line: Number(md[MEMLENS_LINE]) };
    if (md[MEMLENS_COLUMN]) source.column = Number(md[MEMLENS_COLUMN]);
    return { source, scope };
  }
  const fromTrace = md[TORCH_STACK_TRACE] ? innermostUserFrame(md[TORCH_STACK_TRACE]) : null;
  return { source: fromTrace, scope };
}

const PY_FRAME = /File "([^"]+)", line (\d+)/g;

/** The innermost frame outside torch's own package: the user's (or a model library's) line. */
export function innermostUserFrame(trace: string): SourceLocation | null {
  let last: SourceLocation | null = null;
  for (const m of trace.matchAll(PY_FRAME)) {
    const file = m[1];
    if (/[\\/]torch[\\/]/.test(file) && !/[\\/]torchvision[\\/]/.test(file)) continue;
    last = { file, line: Number(m[2]) };
  }
  return last;
}

/**
 * torch's name_scopes is a Python-list-like string of module names from the root, ending with the
 * node's own name: "['', 'layer1', 'layer1.0', 'layer1.0.conv1', 'conv2d']". The scope is the
 * module path before that last entry.
 */
export function torchScope(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const parts = [...v.matchAll(/'([^']*)'/g)].map((m) => m[1]);
  const modules = parts.slice(0, -1).filter(Boolean);
  return modules.length ? modules[modules.length - 1] : parts.length > 1 ? '/' : undefined;
}

/** `/encoder/layer.3/attention/MatMul_1` -> `/encoder/layer.3/attention`; `/Flatten` -> `/` (the root
 * module); flat names carry no scope -> ''. */
export function scopeFromName(name: string): string {
  const i = name.lastIndexOf('/');
  if (i > 0) return name.slice(0, i);
  return name.startsWith('/') ? '/' : '';
}
