// Activation checkpointing and offload regions of a PyTorch export, as node metadata.
// Tracing runs only the forward, so torch.utils.checkpoint.checkpoint(...) and
// torch.autograd.graph.save_on_cpu() leave the exported graph unchanged; the bridge records which
// module calls ran inside them, and every node whose module scope was called there gets the
// region id under CHECKPOINT_KEY / OFFLOAD_KEY, which the memory model reads.
import type { Graph } from '../../extension/engine/graph';
import { CHECKPOINT_KEY, OFFLOAD_KEY } from '../../extension/engine/metadata-keys';
import type { ModuleRecord, NodeLocation } from './source-map';
import { scopeChain } from './source-map';

/** The regions active at one call of a module (ids unique per export, e.g. `checkpoint:2`). */
export interface RegionCall {
  checkpoint: string | null;
  offload: string | null;
}

/** A module entered at least once inside a region, with every call of it in call order. */
export interface ModuleRegions {
  path: string;
  calls: RegionCall[];
}

type RegionKind = keyof RegionCall;
const KEYS: Record<RegionKind, string> = { checkpoint: CHECKPOINT_KEY, offload: OFFLOAD_KEY };

/**
 * The region of one kind for a node of a module: the same for all its calls, or, for a module
 * called both inside and outside (or in two regions), the region of the call the node belongs to
 * when that is known; null otherwise.
 */
export function regionOf(calls: RegionCall[], kind: RegionKind, callIndex: number | null): string | null {
  const ids = new Set(calls.map((c) => c[kind]));
  if (ids.size === 1) return calls[0][kind];
  if (callIndex === null || callIndex >= calls.length) return null;
  return calls[callIndex][kind];
}

/**
 * Which call of its module each TorchScript node belongs to. Each call of a module is one scope
 * instance in the node names (`/gpt/blocks.0/attn`, `/shared_1`), met in execution order; the
 * nth distinct instance of a module path is its nth call. Null for nodes without a scoped name.
 */
export function callIndices(graph: Graph, modules: ModuleRecord[]): Map<string, number> {
  const byPath = new Map(modules.map((r) => [r.path, r]));
  const instances = new Map<string, string[]>();
  const out = new Map<string, number>();
  for (const node of graph.nodes) {
    const chain = scopeChain(node.name, byPath);
    if (!chain || chain.length === 0) continue;
    const prefix = node.name.slice(1).split('/').slice(0, chain.length).join('/');
    const path = chain[chain.length - 1].path;
    const seen = instances.get(path) ?? [];
    let k = seen.indexOf(prefix);
    if (k < 0) {
      k = seen.length;
      seen.push(prefix);
      instances.set(path, seen);
    }
    out.set(node.name, k);
  }
  return out;
}

/**
 * Writes CHECKPOINT_KEY / OFFLOAD_KEY on every node whose scope is a module called inside a
 * recorded region: its own ops and those of its submodules (each submodule has its own record).
 * Returns how many nodes got a region of each kind.
 */
export function writeRegions(
  graph: Graph,
  located: Map<string, NodeLocation>,
  regions: ModuleRegions[],
  callIndex: Map<string, number> = new Map(),
): Record<RegionKind, number> {
  const counts: Record<RegionKind, number> = { checkpoint: 0, offload: 0 };
  if (regions.length === 0) return counts;
  const byPath = new Map(regions.map((r) => [r.path, r.calls]));
  for (const node of graph.nodes) {
    const scope = located.get(node.name)?.scope;
    const calls = scope === undefined ? undefined : byPath.get(scope);
    if (!calls || calls.length === 0) continue;
    for (const kind of ['checkpoint', 'offload'] as const) {
      const id = regionOf(calls, kind, callIndex.get(node.name) ?? null);
      if (id === null) continue;
      node.metadata[KEYS[kind]] = id;
      counts[kind]++;
    }
  }
  return counts;
}
