// A RunResult -> the `measured` field of the Profile JSON. Per-node figures come from the
// session with optimisations disabled (one event per graph node, so names match the estimate);
// the optimised session's figures ride along as what users get.
import type { MeasuredComparison, MeasuredNode, MeasuredSession, OrtMeasured, Profile, SourceRef } from '../engine/profile';
import type { ProviderAttempt, RunResult, SessionFigures } from './types';

export function toMeasured(result: RunResult, estimate?: Profile, comparison: MeasuredComparison | null = null): OrtMeasured {
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
    runtime: 'onnxruntime',
    ep: result.ep,
    peakBytes: a.peakBytes,
    arenaHeldBytes: a.arenaHeldBytes ?? 0,
    wallMs: a.wallMs,
    perNode,
    level: 'disabled',
    peakSource: a.peakSource,
    runs: result.runs,
    optimised: result.optimised ? summary(result.optimised) : null,
    providersSkipped: result.providers.flatMap(skipped),
    weightBytes: result.weightBytes,
    inputBytes: result.inputs.reduce((s, i) => s + i.bytes, 0),
    materialised: result.materialised,
    rssPeakBytes: result.rssPeakBytes,
    deviceMemory: result.deviceMemory,
    warnings: result.warnings,
    branches: result.branches,
    comparison,
  };
}

/** A provider that did not run, with the reason. */
function skipped(p: ProviderAttempt): OrtMeasured['providersSkipped'] {
  return p.status === 'ran' ? [] : [{ ep: p.ep, status: p.status, reason: p.reason }];
}

function summary(s: SessionFigures): MeasuredSession {
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
