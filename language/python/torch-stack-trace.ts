// Source locations from torch >= 2.5's dynamo exporter, which writes each node's Python stack
// (`pkg.torch.onnx.stack_trace`) and module scopes (`pkg.torch.onnx.name_scopes`).
import { TORCH_NAME_SCOPES, TORCH_STACK_TRACE } from '../../extension/engine/metadata-keys';
import type { NodeLocation } from './source-map';

const FRAME = /File "([^"]+)", line (\d+)/g;

/** Frames inside torch itself (F.linear inside nn.Linear.forward) are not the user's line. */
function isTorchInternal(file: string): boolean {
  return /[\\/]torch[\\/]/.test(file);
}

/** The innermost frame outside torch; null when the trace has none. */
export function lineFromStackTrace(trace: string): { file: string; line: number } | null {
  const frames = [...trace.matchAll(FRAME)].map((m) => ({ file: m[1], line: Number(m[2]) }));
  const user = frames.filter((f) => !isTorchInternal(f.file));
  return user.length ? user[user.length - 1] : frames.length ? frames[frames.length - 1] : null;
}

/**
 * The exporter writes the module paths of the node's nn_module_stack followed by the FX node's own
 * name: `['', 'layer1', 'layer1.0', 'conv2d_3']` (Python repr) -> `layer1.0`; a node outside any
 * module (`['add']`) -> the root ''.
 */
export function scopeFromNameScopes(value: string): string {
  try {
    const list = JSON.parse(value.replace(/'/g, '"')) as unknown;
    if (Array.isArray(list)) return list.length >= 2 ? String(list[list.length - 2]) : '';
  } catch {
    // not a list: a plain dotted scope
  }
  return value.trim();
}

export function locationFromTorchMetadata(metadata: Record<string, string>): NodeLocation | null {
  const trace = metadata[TORCH_STACK_TRACE];
  const scopes = metadata[TORCH_NAME_SCOPES];
  if (trace === undefined && scopes === undefined) return null;
  const where = trace ? lineFromStackTrace(trace) : null;
  return { file: where?.file ?? null, line: where?.line ?? null, scope: scopes ? scopeFromNameScopes(scopes) : '' };
}
