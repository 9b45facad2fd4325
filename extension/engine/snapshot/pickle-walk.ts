// Checks on a value the pickle reader built: memo references let a pickle share values (a DAG,
// which snapshots use for repeated stack traces) and also build cycles, which no snapshot has and
// which would make any later walk endless. The walk is iterative and visits each container once.
import { MemlensError } from '../errors';
import { PickleTuple, type PickleValue } from './pickle-value';

function children(v: PickleValue): readonly PickleValue[] | undefined {
  if (Array.isArray(v)) return v;
  if (v instanceof PickleTuple) return v.items;
  if (v instanceof Map) return [...v.values()];
  return undefined;
}

/** Nesting height of a value: 0 for scalars, else the height recorded while it was built. */
export function containerHeight(v: PickleValue, heights: WeakMap<object, number>): number {
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return 0;
  return heights.get(v) ?? 1;
}

/** Throws when `root` contains itself or nests deeper than `maxDepth` containers. */
export function checkAcyclic(root: PickleValue, maxDepth: number): void {
  const heights = new Map<object, number>();
  const onPath = new Set<object>();
  type Frame = { node: object; kids: readonly PickleValue[]; next: number; height: number };
  const path: Frame[] = [];
  const tooDeep = () => new MemlensError(`pickle: nesting deeper than ${maxDepth} levels`);
  /** Visits `v` below the current path; returns its height when already known. */
  const enter = (v: PickleValue): number => {
    const kids = children(v);
    if (!kids) return 0;
    const node = v as object;
    const known = heights.get(node);
    if (known !== undefined) {
      if (path.length + known > maxDepth) throw tooDeep();
      return known;
    }
    if (onPath.has(node)) throw new MemlensError('pickle: a container contains itself (a memory snapshot has no cycles)');
    if (path.length >= maxDepth) throw tooDeep();
    onPath.add(node);
    path.push({ node, kids, next: 0, height: 1 });
    return -1;
  };
  enter(root);
  while (path.length) {
    const f = path[path.length - 1];
    if (f.next < f.kids.length) {
      const h = enter(f.kids[f.next++]);
      if (h >= 0) f.height = Math.max(f.height, h + 1);
      continue;
    }
    path.pop();
    onPath.delete(f.node);
    heights.set(f.node, f.height);
    if (path.length) path[path.length - 1].height = Math.max(path[path.length - 1].height, f.height + 1);
  }
}
