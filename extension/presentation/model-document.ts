// A cheap look at a document before anything heavy loads: is this a model MemLens should profile?
// TypeScript models import the model API; Python models import torch.
import type { ModelKind } from '../analysis/model-kind';

/** How much of a file the check reads; imports sit at the top. */
const HEAD_CHARS = 20_000;

export function looksLikeModel(kind: ModelKind, text: string): boolean {
  const head = text.slice(0, HEAD_CHARS);
  switch (kind) {
    case 'onnx':
      return true;
    case 'typescript':
      return /from\s+['"]memlens\/nn['"]|require\(\s*['"]memlens\/nn['"]\s*\)/.test(head);
    case 'python':
      return /^\s*(import\s+torch\b|from\s+torch(\.\w+)*\s+import\b)/m.test(head);
  }
}

/** Whether profiling this kind runs the user's code (refused in untrusted workspaces). */
export function runsUserCode(kind: ModelKind): boolean {
  return kind !== 'onnx';
}
