// A kept trace worker's last trace, reused when nothing it depends on has changed. A trace is a
// function of the request (file, entry, config, dtype, seed, weights) and of the TypeScript
// sources it loaded: the model API is fixed for the worker's life, and the other modules it
// requires (.js, .json, packages) stay in the require cache between traces anyway. So a request
// equal to the last one whose loaded sources all read the same text again gives the same graph:
// a settings change (batch, sequence length: the trace is symbolic in them) or a save that
// changed nothing skips running the model's code.
import * as fs from 'fs';
import type { TraceReply, TraceRequest } from './trace-protocol';

type Traced = Extract<TraceReply, { ok: true }>;

interface Kept {
  key: string;
  /** Each loaded source file and the text it was loaded from. */
  sources: Map<string, string>;
  reply: Traced;
}

/**
 * What of the request besides the entry the graph depends on; a weights file by its size and
 * modification time too.
 */
function requestKey(req: TraceRequest): string {
  let weights: string | null = null;
  if (req.weights) {
    const st = fs.statSync(req.weights, { throwIfNoEntry: false });
    weights = st ? `${req.weights}:${st.size}:${st.mtimeMs}` : req.weights;
  }
  return JSON.stringify([req.file, req.materialize, req.seed, req.dtype ?? null, req.config ?? null, weights]);
}

function unchanged(sources: Map<string, string>): boolean {
  for (const [file, text] of sources) {
    let now: string;
    try {
      now = fs.readFileSync(file, 'utf8');
    } catch {
      return false;
    }
    if (now !== text) return false;
  }
  return true;
}

export class TraceReuse {
  private kept: Kept | null = null;

  /** The last reply, marked reused, if `req` asks for the same trace over the same sources. */
  lookup(req: TraceRequest): Traced | null {
    const k = this.kept;
    if (!k || k.key !== requestKey(req)) return null;
    // No entry named is the file's first entry: over the same sources, the one the kept trace lists first.
    const entry = req.entry ?? k.reply.entries[0];
    if (entry !== k.reply.description.name || !unchanged(k.sources)) return null;
    return { ...k.reply, reused: true };
  }

  /** Keeps a successful trace with the sources it loaded; a failed one keeps nothing. */
  remember(req: TraceRequest, reply: TraceReply, sources: Map<string, string>): void {
    this.kept = reply.ok ? { key: requestKey(req), sources: new Map(sources), reply } : null;
  }
}
