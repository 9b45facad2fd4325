// The memory timeline as a Chrome trace / Perfetto JSON: one counter track per category,
// one slice per step so the executing node shows under the counters.
import { CATEGORIES, type Profile } from '../engine/profile';

interface TraceEvent {
  name: string;
  ph: 'C' | 'X' | 'M';
  ts: number;
  pid: number;
  tid: number;
  dur?: number;
  args: Record<string, unknown>;
  cat?: string;
}

/** Steps are laid out 1 µs apart: the timeline is in execution order, not wall time. */
export function chromeTrace(profile: Profile): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms'; otherData: Record<string, unknown> } {
  const events: TraceEvent[] = [
    { name: 'process_name', ph: 'M', ts: 0, pid: 1, tid: 0, args: { name: `MemLens ${profile.source}` } },
    { name: 'thread_name', ph: 'M', ts: 0, pid: 1, tid: 1, args: { name: 'steps' } },
  ];
  for (const p of profile.timeline) {
    const args: Record<string, number> = {};
    for (const c of CATEGORIES) args[c] = p.byCategory[c];
    events.push({ name: 'live bytes', ph: 'C', ts: p.index, pid: 1, tid: 0, args });
    events.push({
      name: `${p.op} ${p.node}`, cat: p.phase, ph: 'X', ts: p.index, dur: 1, pid: 1, tid: 1,
      args: { phase: p.phase, liveBytes: p.liveBytes, source: p.source ? `${p.source.file}:${p.source.line}` : null },
    });
  }
  return {
    traceEvents: events,
    displayTimeUnit: 'ms',
    otherData: { schema: profile.schema, peakBytes: profile.peak.bytes, peakNode: profile.peak.node, settings: profile.settings },
  };
}
