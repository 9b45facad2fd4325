// How a supervised child ended, as a closed union, and the one line a user reads about it.
import { MemlensError } from '../engine/errors';
import { formatBytes } from '../engine/units';
import { formatSeconds } from './format';

export type Ending =
  | { kind: 'exited'; code: number }
  | { kind: 'signalled'; signal: NodeJS.Signals }
  | { kind: 'timeout'; limitMs: number }
  /** The resident memory of the child and its descendants went over the limit. */
  | { kind: 'memory'; limitBytes: number; residentBytes: number }
  /** A Node child ran out of its V8 heap (the heap limit is set below the memory limit). */
  | { kind: 'heap'; heapLimitBytes: number }
  | { kind: 'cancelled' }
  | { kind: 'invalid-message'; reason: string }
  | { kind: 'not-started'; reason: string; notFound: boolean };

/** Every error line from a child is at most this long. */
export const MAX_ERROR_LINE = 300;

// eslint-disable-next-line no-control-regex
const COLOUR_CODES = /\x1b\[[0-9;]*[A-Za-z]/g;

/** One line of at most `max` characters: colour codes gone, newlines and runs of spaces folded. */
export function oneLine(text: string, max = MAX_ERROR_LINE): string {
  const flat = text.replace(COLOUR_CODES, '').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

/** The last non-empty line of a stream's tail, for errors that left no structured reply. */
export function lastLine(text: string, max = 200): string {
  const lines = text.split('\n').map((l) => l.replace(COLOUR_CODES, '').trim()).filter(Boolean);
  return oneLine(lines[lines.length - 1] ?? '', max);
}

export interface EndingDetail {
  /** What the child was doing (`while run 1 of 3 on cpu`), shown in parentheses. */
  context?: string;
  /** For a non-zero exit: the last line the child wrote to stderr. */
  lastError?: string;
}

/** `what` names what ran: `model run`, `tracing model.ts`, `model.py: export`. */
export function endingMessage(what: string, ending: Ending, detail: EndingDetail = {}): string {
  const ctx = detail.context ? ` (${detail.context})` : '';
  switch (ending.kind) {
    case 'exited': {
      const last = detail.lastError ? `: ${detail.lastError}` : '';
      return oneLine(`${what} exited with code ${ending.code}${ctx}${last}`);
    }
    case 'signalled':
      return oneLine(ending.signal === 'SIGKILL'
        ? `${what} was killed by SIGKILL, most likely by the system for lack of memory${ctx}`
        : `${what} crashed with signal ${ending.signal}${ctx}`);
    case 'timeout':
      return oneLine(`${what} timed out after ${formatSeconds(ending.limitMs)}${ctx}`);
    case 'memory':
      return oneLine(`${what} ran out of memory: RSS ${formatBytes(ending.residentBytes)} over the limit of ${formatBytes(ending.limitBytes)}${ctx}`);
    case 'heap':
      return oneLine(`${what} ran out of memory: the JavaScript heap reached its limit of ${formatBytes(ending.heapLimitBytes)}${ctx}`);
    case 'cancelled':
      return oneLine(`${what} cancelled${ctx}`);
    case 'invalid-message':
      return oneLine(`${what} sent an invalid reply: ${ending.reason}${ctx}`);
    case 'not-started':
      return oneLine(`${what} could not start: ${ending.reason}`);
  }
}

export function endingError(what: string, ending: Ending, detail: EndingDetail = {}): MemlensError {
  return new MemlensError(endingMessage(what, ending, detail));
}
