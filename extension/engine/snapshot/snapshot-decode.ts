// From the plain data of a snapshot pickle to typed Snapshot records, for the formats PyTorch has
// written since 2023, and torch 1.13's bare list of segments: torch 2.0 blocks carry a `history`
// list instead of `frames` and have no `address`; torch 2.1 adds block addresses, frames and trace
// `time_us`; later releases add
// `is_expandable`, `allocator_settings`, `external_annotations`, `segment_map`/`segment_unmap`
// actions and, with augment_with_fx_traces, FX fields on frames. Optional fields get the value
// PyTorch's own code derives for them (cited where it is used); unknown keys are ignored.
import { MemlensError } from '../errors';
import { readPickle, type PickleLimits } from './pickle-reader';
import type { PickleDict, PickleValue } from './pickle-value';
import { asBool, asDict, asInt, asIntPair, asList, asNumber, asSize, asStr, fail, opt, req } from './snapshot-fields';
import { decodeTraces, FrameCache } from './snapshot-trace';
import type { Snapshot, SnapshotAllocatorSettings, SnapshotAnnotation, SnapshotBlock, SnapshotSegment } from './snapshot-types';

export interface SnapshotLimits {
  /** Most segments + blocks + trace entries decoded. */
  readonly maxRecords: number;
}

const DEFAULT_LIMITS: SnapshotLimits = { maxRecords: 2 ** 26 };

/** Reads a snapshot file's bytes: the pickle reader, then the typed decoder. */
export function readSnapshot(data: Uint8Array, limits: Partial<PickleLimits & SnapshotLimits> = {}): Snapshot {
  return decodeSnapshot(readPickle(data, limits), limits);
}

export function decodeSnapshot(root: PickleValue, limits: Partial<SnapshotLimits> = {}): Snapshot {
  const lim = { ...DEFAULT_LIMITS, ...limits };
  if (Array.isArray(root)) {
    // torch 1.13's _snapshot() returned the list of segments alone.
    const ctx = new DecodeContext(lim.maxRecords);
    const segments = root.map((s, i) => decodeSegment(s, `segments[${i}]`, ctx));
    ctx.notes.add('torch 1.13 format: segments only, no device traces');
    return { segments, deviceTraces: [], allocatorSettings: null, externalAnnotations: [], notes: [...ctx.notes] };
  }
  const top = asDict(root, 'top level');
  if (!top.has('segments')) fail('top level', "no 'segments' key: this pickle is not a torch.cuda.memory snapshot");
  const ctx = new DecodeContext(lim.maxRecords);
  const segments = asList(top.get('segments') as PickleValue, 'segments').map((s, i) => decodeSegment(s, `segments[${i}]`, ctx));
  const traces = top.has('device_traces') ? decodeTraces(top.get('device_traces') as PickleValue, ctx.frames, ctx.notes, () => ctx.count('device_traces')) : [];
  const settings = opt(top, 'allocator_settings', 'top level', (v, p) => decodeSettings(asDict(v, p), p));
  const annotations = opt(top, 'external_annotations', 'top level', (v, p) => asList(v, p).map((a, i) => decodeAnnotation(a, `${p}[${i}]`, ctx.notes))) ?? [];
  return { segments, deviceTraces: traces, allocatorSettings: settings, externalAnnotations: annotations, notes: [...ctx.notes] };
}

class DecodeContext {
  readonly frames = new FrameCache();
  readonly notes = new Set<string>();
  private records = 0;
  constructor(private readonly maxRecords: number) {}
  count(path: string): void {
    if (++this.records > this.maxRecords) throw new MemlensError(`snapshot: ${path}: more than ${this.maxRecords} records`);
  }
}

function decodeSegment(v: PickleValue, path: string, ctx: DecodeContext): SnapshotSegment {
  ctx.count(path);
  const d = asDict(v, path);
  const address = req(d, 'address', path, asSize);
  const type = req(d, 'segment_type', path, asStr);
  if (type !== 'small' && type !== 'large') fail(`${path}.segment_type`, `expected 'small' or 'large', got '${type}'`);
  const blocks: SnapshotBlock[] = [];
  let offset = address;
  for (const [i, b] of asList(req(d, 'blocks', path, (x) => x), `${path}.blocks`).entries()) {
    const block = decodeBlock(b, `${path}.blocks[${i}]`, offset, ctx);
    blocks.push(block);
    offset = block.address + block.size;
  }
  // Derived as DeviceCachingAllocator::snapshot() computes them, when a format leaves them out.
  const sum = (f: (b: SnapshotBlock) => number) => blocks.reduce((a, b) => a + f(b), 0);
  const active = (b: SnapshotBlock) => b.state !== 'inactive';
  return {
    device: opt(d, 'device', path, asInt) ?? 0,
    address,
    totalSize: req(d, 'total_size', path, asSize),
    allocatedSize: opt(d, 'allocated_size', path, asSize) ?? sum((b) => (b.state === 'active_allocated' ? b.size : 0)),
    activeSize: opt(d, 'active_size', path, asSize) ?? sum((b) => (active(b) ? b.size : 0)),
    requestedSize: opt(d, 'requested_size', path, asSize) ?? sum((b) => (active(b) ? b.requestedSize : 0)),
    stream: req(d, 'stream', path, asInt),
    pool: type,
    privatePoolId: opt(d, 'segment_pool_id', path, asIntPair),
    isExpandable: opt(d, 'is_expandable', path, asBool) ?? false,
    frames: opt(d, 'frames', path, (x, p) => ctx.frames.decode(x, p)) ?? [],
    blocks,
  };
}

const STATES = new Set(['active_allocated', 'active_pending_free', 'active_awaiting_free', 'inactive']);

function decodeBlock(v: PickleValue, path: string, nextAddress: number, ctx: DecodeContext): SnapshotBlock {
  ctx.count(path);
  const d = asDict(v, path);
  const size = req(d, 'size', path, asSize);
  const state = req(d, 'state', path, asStr);
  if (!STATES.has(state)) fail(`${path}.state`, `unknown block state '${state}'`);
  // torch 2.0: no address (blocks are contiguous from the segment's, as torch itself numbers them),
  // and the frames and requested size of the allocation live in history[0], as _memory_viz reads them.
  const history = opt(d, 'history', path, asList);
  const first = history && history.length ? asDict(history[0], `${path}.history[0]`) : null;
  if (history) ctx.notes.add('blocks in the torch 2.0 format: frames and requested sizes are taken from history[0]');
  const legacyFrames = first ? opt(first, 'frames', `${path}.history[0]`, (x, p) => ctx.frames.decode(x, p)) : null;
  return {
    address: opt(d, 'address', path, asSize) ?? nextAddress,
    size,
    requestedSize: opt(d, 'requested_size', path, asSize) ?? (first ? req(first, 'real_size', `${path}.history[0]`, asSize) : size),
    state: state === 'active_awaiting_free' ? 'active_pending_free' : (state as SnapshotBlock['state']),
    frames: opt(d, 'frames', path, (x, p) => ctx.frames.decode(x, p)) ?? legacyFrames ?? [],
  };
}

function decodeSettings(d: PickleDict, path: string): SnapshotAllocatorSettings {
  const split = opt(d, 'max_split_size', path, asInt);
  const divisions = opt(d, 'roundup_power2_divisions', path, (v, p) =>
    [...asDict(v, p).entries()].map(([k, n]) => {
      const key = asStr(k, `${p} key`);
      if (!/^\d+$/.test(key)) fail(`${p}['${key}']`, 'expected a key that is an interval start in MiB');
      return { intervalMiB: Number(key), divisions: asInt(n, `${p}['${key}']`) };
    }));
  return {
    allocConf: opt(d, 'PYTORCH_CUDA_ALLOC_CONF', path, asStr),
    maxSplitSize: split === null ? null : split < 0 ? Infinity : split,
    garbageCollectionThreshold: opt(d, 'garbage_collection_threshold', path, asNumber),
    expandableSegments: opt(d, 'expandable_segments', path, asBool),
    roundupPower2Divisions: divisions,
  };
}

function decodeAnnotation(v: PickleValue, path: string, notes: Set<string>): SnapshotAnnotation {
  const d = asDict(v, path);
  const metadata: Record<string, string> = {};
  for (const [k, x] of d) {
    if (k === 'device' || k === 'time_us') continue;
    if (typeof k === 'string' && typeof x === 'string') metadata[k] = x;
    else notes.add('external_annotations: entries whose key or value is not a str were left out');
  }
  return { device: opt(d, 'device', path, asInt), timeUs: opt(d, 'time_us', path, asInt), metadata };
}
