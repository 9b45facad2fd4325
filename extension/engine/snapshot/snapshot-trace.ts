// Frames and device traces of a snapshot. Snapshots share one frames list among every block and
// trace entry with the same stack (the pickle memoizes it); the cache decodes each list once and
// hands out the same array, so sharing survives and the work stays linear in the file.
import type { PickleList, PickleValue } from './pickle-value';
import { asDict, asInt, asList, asSize, asStr, opt, req } from './snapshot-fields';
import { TRACE_ACTIONS, type SnapshotFrame, type SnapshotTraceEntry, type TraceAction } from './snapshot-types';

export class FrameCache {
  private readonly lists = new Map<PickleList, readonly SnapshotFrame[]>();

  decode(v: PickleValue, path: string): readonly SnapshotFrame[] {
    const list = asList(v, path);
    let frames = this.lists.get(list);
    if (!frames) {
      frames = list.map((f, i) => decodeFrame(f, `${path}[${i}]`));
      this.lists.set(list, frames);
    }
    return frames;
  }
}

function decodeFrame(v: PickleValue, path: string): SnapshotFrame {
  const d = asDict(v, path);
  const fxOp = opt(d, 'fx_node_op', path, asStr), fxName = opt(d, 'fx_node_name', path, asStr);
  const fxTarget = opt(d, 'fx_node_target', path, asStr), fxTrace = opt(d, 'fx_original_trace', path, asStr);
  const hasFx = fxOp !== null || fxName !== null || fxTarget !== null || fxTrace !== null;
  return {
    filename: req(d, 'filename', path, asStr),
    line: req(d, 'line', path, asInt),
    name: req(d, 'name', path, asStr),
    fx: hasFx ? { op: fxOp, nodeName: fxName, target: fxTarget, originalTrace: fxTrace } : null,
  };
}

const ACTIONS = new Set<string>(TRACE_ACTIONS);

export function decodeTraces(v: PickleValue, frames: FrameCache, notes: Set<string>, count: () => void): SnapshotTraceEntry[][] {
  const skipped = new Map<string, number>();
  const devices = asList(v, 'device_traces').map((trace, dev) => {
    const out: SnapshotTraceEntry[] = [];
    for (const [i, e] of asList(trace, `device_traces[${dev}]`).entries()) {
      count();
      const path = `device_traces[${dev}][${i}]`;
      const d = asDict(e, path);
      const action = req(d, 'action', path, asStr);
      if (!ACTIONS.has(action)) {
        skipped.set(action, (skipped.get(action) ?? 0) + 1);
        continue;
      }
      const oom = action === 'oom';
      out.push({
        action: action as TraceAction,
        addr: oom ? null : req(d, 'addr', path, asSize),
        size: req(d, 'size', path, asSize),
        stream: req(d, 'stream', path, asInt),
        timeUs: opt(d, 'time_us', path, asInt),
        deviceFree: oom ? req(d, 'device_free', path, asSize) : null,
        frames: opt(d, 'frames', path, (x, p) => frames.decode(x, p)) ?? [],
        compileContext: opt(d, 'compile_context', path, asStr),
        userMetadata: opt(d, 'user_metadata', path, asStr),
      });
    }
    return out;
  });
  for (const [action, n] of skipped) notes.add(`${n} trace entries with unknown action '${action}' skipped`);
  return devices;
}


