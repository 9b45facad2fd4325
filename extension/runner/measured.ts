// A RunResult -> the `measured` field of the Profile JSON. Per-node figures come from the
// session with optimisations disabled (one event per graph node, so names match the estimate);
// the optimised session's figures ride along as what users get.
import type { MeasuredFigures, MeasuredNode, Profile, SourceRef } from '../engine/profile';
import type { PeakSource, ProviderAttempt, RunResult, SessionFigures } from './types';

export interface SessionSummary {
  level: 'disabled' | 'all';
  peakBytes: number;
  peakSource: PeakSource;
  arenaHeldBytes: number;
  wallMs: number;
  nodeEvents: number;
}

export interface RunnerMeasuredFigures extends MeasuredFigures {
  level: 'disabled';
  peakSource: PeakSource;
  runs: number;
  optimised: SessionSummary | null;
  /** Providers that did not run, with the reason. */
  providersSkipped: ProviderAttempt[];
  weightBytes: number;
  inputBytes: number;
  materialised: { tensors: number; bytes: number } | null;
  rssPeakBytes: number | null;
  deviceMemory: RunResult['deviceMemory'];
  warnings: string[];
}

export function toMeasured(result: RunResult, estimate?: Profile): RunnerMeasuredFigures {
  const sources = estimate ? sourcesByNode(estimate) : new Map<string, SourceRef>();
  const a = result.attribution;
  const perNode: MeasuredNode[] = a.nodes.map((n) => ({
    node: n.node,
    op: n.op,
    durationUs: n.durationUs,
    outputBytes: n.outputBytes,
    inUseBytes: n.inUseBytes ?? 0,
    source: sources.get(n.node) ?? null,
  }));
  return {
    ep: result.ep,
    peakBytes: a.peakBytes,
    arenaHeldBytes: a.arenaHeldBytes ?? 0,
    wallMs: a.wallMs,
    perNode,
    level: 'disabled',
    peakSource: a.peakSource,
    runs: result.runs,
    optimised: result.optimised ? summary(result.optimised) : null,
    providersSkipped: result.providers.filter((p) => p.status !== 'ran'),
    weightBytes: result.weightBytes,
    inputBytes: result.inputs.reduce((s, i) => s + i.bytes, 0),
    materialised: result.materialised,
    rssPeakBytes: result.rssPeakBytes,
    deviceMemory: result.deviceMemory,
    warnings: result.warnings,
  };
}

function summary(s: SessionFigures): SessionSummary {
  return {
    level: s.level,
    peakBytes: s.peakBytes,
    peakSource: s.peakSource,
    arenaHeldBytes: s.arenaHeldBytes ?? 0,
    wallMs: s.wallMs,
    nodeEvents: s.nodes.length,
  };
}

/** Source line of each estimated node: the timeline's, else the line that lists the node. */
export function sourcesByNode(estimate: Profile): Map<string, SourceRef> {
  const out = new Map<string, SourceRef>();
  for (const line of estimate.lines) {
    if (line.file === null || line.line === null) continue;
    for (const node of line.nodes) out.set(node, { file: line.file, line: line.line });
  }
  for (const p of estimate.timeline) if (p.source) out.set(p.node, p.source);
  return out;
}
