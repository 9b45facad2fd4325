// Typed records for a PyTorch CUDA memory snapshot (torch.cuda.memory._snapshot(), pickled by
// _dump_snapshot). The layout is documented in the docstring of torch/cuda/memory.py `_snapshot`
// and in torch/_utils.py (`_Frame`, `_Block`, `_Segment`, `_TraceEntry`); the keys come from
// THCPModule_memorySnapshot in torch/csrc/cuda/Module.cpp. Field names here are camelCase forms
// of the snapshot's keys; nothing is renamed beyond that.

export interface SnapshotFrame {
  readonly filename: string;
  readonly line: number;
  readonly name: string;
  /** Set by torch._utils._augment_frames (snapshot augmented with FX traces) for lines of FX-generated code. */
  readonly fx: FxFrameInfo | null;
}

export interface FxFrameInfo {
  readonly op: string | null;
  readonly nodeName: string | null;
  readonly target: string | null;
  readonly originalTrace: string | null;
}

/** `active_pending_free` is what the C++ side writes; the docstring calls it `active_awaiting_free`. */
export type BlockState = 'active_allocated' | 'active_pending_free' | 'inactive';

export interface SnapshotBlock {
  readonly address: number;
  /** Rounded size the allocator handed out (what memory_allocated() counts). */
  readonly size: number;
  /** Bytes the caller asked for. */
  readonly requestedSize: number;
  readonly state: BlockState;
  readonly frames: readonly SnapshotFrame[];
}

export interface SnapshotSegment {
  readonly device: number;
  readonly address: number;
  /** cudaMalloc'd (or, with expandable segments, mapped) bytes; reserved memory is their sum. */
  readonly totalSize: number;
  readonly allocatedSize: number;
  readonly activeSize: number;
  readonly requestedSize: number;
  readonly stream: number;
  readonly pool: 'small' | 'large';
  /** CUDA-graph / MemPool private pool id; (0, 0) is the default pool. */
  readonly privatePoolId: readonly [number, number] | null;
  readonly isExpandable: boolean;
  readonly frames: readonly SnapshotFrame[];
  readonly blocks: readonly SnapshotBlock[];
}

export const TRACE_ACTIONS = [
  'alloc', 'free_requested', 'free_completed', 'segment_alloc', 'segment_free',
  'segment_map', 'segment_unmap', 'snapshot', 'oom', 'user_defined',
] as const;

export type TraceAction = (typeof TRACE_ACTIONS)[number];

export interface SnapshotTraceEntry {
  readonly action: TraceAction;
  /** Block or segment address; null for `oom`, which records the device's free bytes instead. */
  readonly addr: number | null;
  readonly size: number;
  readonly stream: number;
  /** Microseconds since the epoch (torch >= 2.1). */
  readonly timeUs: number | null;
  /** Free device memory cudaMemGetInfo reported, for `oom` only. */
  readonly deviceFree: number | null;
  readonly frames: readonly SnapshotFrame[];
  readonly compileContext: string | null;
  readonly userMetadata: string | null;
}

export interface SnapshotAllocatorSettings {
  /** The PYTORCH_CUDA_ALLOC_CONF string the process parsed last. */
  readonly allocConf: string | null;
  /** Bytes; Infinity when unlimited (the snapshot stores SIZE_MAX as int64 -1). */
  readonly maxSplitSize: number | null;
  readonly garbageCollectionThreshold: number | null;
  readonly expandableSegments: boolean | null;
  /** Divisions per power-of-two interval, keyed by the interval's start in MiB (1, 2, 4, ...). */
  readonly roundupPower2Divisions: readonly { readonly intervalMiB: number; readonly divisions: number }[] | null;
}

export interface SnapshotAnnotation {
  readonly device: number | null;
  readonly timeUs: number | null;
  /** The annotation's string entries (for example a record_function name and its stage). */
  readonly metadata: Readonly<Record<string, string>>;
}

export interface Snapshot {
  readonly segments: readonly SnapshotSegment[];
  /** One list per device, oldest entry first. */
  readonly deviceTraces: readonly (readonly SnapshotTraceEntry[])[];
  readonly allocatorSettings: SnapshotAllocatorSettings | null;
  readonly externalAnnotations: readonly SnapshotAnnotation[];
  /** What the reader had to infer or skip, one line each. */
  readonly notes: readonly string[];
}
