// ORT's profiler output (Chrome trace JSON) -> per-run, per-node figures. Node events are named
// `<node>_kernel_time` and fall inside the `model_run` event of the run that executed them.
import type { NodeMeasurement } from './types';

export interface TraceEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: Record<string, unknown>;
}

export interface ParsedRun {
  /** `model_run` duration in microseconds as ORT measured it. */
  durationUs: number;
  nodes: NodeMeasurement[];
}

const KERNEL_SUFFIX = '_kernel_time';

export function parseTrace(text: string): TraceEvent[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new Error('internal: ORT profile is not a JSON array');
  return parsed as TraceEvent[];
}

/** Node figures per `model_run`, in run order; executions of one node within a run are summed. */
export function nodesByRun(events: TraceEvent[]): ParsedRun[] {
  const runs = events
    .filter((e) => e.cat === 'Session' && e.name === 'model_run')
    .map((e) => ({ start: e.ts ?? 0, end: (e.ts ?? 0) + (e.dur ?? 0), durationUs: e.dur ?? 0 }))
    .sort((a, b) => a.start - b.start);
  const nodeEvents = events
    .filter((e) => e.cat === 'Node' && e.name?.endsWith(KERNEL_SUFFIX))
    .sort((a, b) => (a.ts ?? 0) - (b.ts ?? 0));
  return runs.map((run) => {
    const byName = new Map<string, NodeMeasurement>();
    for (const e of nodeEvents) {
      const ts = e.ts ?? 0;
      if (ts < run.start || ts > run.end) continue;
      const m = measurement(e);
      const prev = byName.get(m.node);
      if (!prev) byName.set(m.node, m);
      else mergeInto(prev, m);
    }
    return { durationUs: run.durationUs, nodes: [...byName.values()] };
  });
}

function measurement(e: TraceEvent): NodeMeasurement {
  const a = e.args ?? {};
  const name = (e.name ?? '').slice(0, -KERNEL_SUFFIX.length);
  return {
    node: name,
    op: str(a.op_name),
    provider: str(a.provider).replace(/ExecutionProvider$/, ''),
    nodeIndex: optNum(a.node_index),
    durationUs: e.dur ?? 0,
    executions: 1,
    outputBytes: optNum(a.output_size) ?? 0,
    activationBytes: optNum(a.activation_size) ?? 0,
    parameterBytes: optNum(a.parameter_size) ?? 0,
    inUseBytes: optNum(a.mem_bytes_in_use),
    requestedInUseBytes: optNum(a.mem_bytes_requested_in_use),
    inUseDeltaBytes: optNum(a.mem_in_use_delta),
    inUsePeakBytes: optNum(a.mem_in_use_peak),
    arenaHeldBytes: optNum(a.mem_arena_held),
  };
}

/** A node that ran again in the same run (a Loop body): time adds up, memory keeps its maximum. */
function mergeInto(into: NodeMeasurement, m: NodeMeasurement): void {
  into.durationUs += m.durationUs;
  into.executions += 1;
  into.outputBytes = Math.max(into.outputBytes, m.outputBytes);
  into.activationBytes = Math.max(into.activationBytes, m.activationBytes);
  into.parameterBytes = Math.max(into.parameterBytes, m.parameterBytes);
  into.inUseBytes = maxOrNull(into.inUseBytes, m.inUseBytes);
  into.requestedInUseBytes = maxOrNull(into.requestedInUseBytes, m.requestedInUseBytes);
  into.inUseDeltaBytes = maxOrNull(into.inUseDeltaBytes, m.inUseDeltaBytes);
  into.inUsePeakBytes = maxOrNull(into.inUsePeakBytes, m.inUsePeakBytes);
  into.arenaHeldBytes = maxOrNull(into.arenaHeldBytes, m.arenaHeldBytes);
}

function maxOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

function str(v: unknown): string {
  if (typeof v === 'string') return v;
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

function optNum(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

/** The session's measured peak from what the profile really holds. */
export function peakFromNodes(nodes: NodeMeasurement[]): { bytes: number; source: 'arena-peak' | 'node-in-use' } | null {
  const peaks = nodes.map((n) => n.inUsePeakBytes).filter((v): v is number => v !== null);
  if (peaks.length > 0) return { bytes: maxOf(peaks), source: 'arena-peak' };
  const inUse = nodes.map((n) => n.inUseBytes).filter((v): v is number => v !== null);
  if (inUse.length > 0) return { bytes: maxOf(inUse), source: 'node-in-use' };
  return null;
}

export function arenaHeld(nodes: NodeMeasurement[]): number | null {
  const held = nodes.map((n) => n.arenaHeldBytes).filter((v): v is number => v !== null);
  return held.length > 0 ? maxOf(held) : null;
}

/** Math.max without spreading, which overflows the stack on graphs with many nodes. */
function maxOf(values: number[]): number {
  return values.reduce((a, b) => (b > a ? b : a), -Infinity);
}

export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
