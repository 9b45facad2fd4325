// Errors from the engine bundle: user-facing ones are MemlensErrors (matched by name, since the
// engine is a separate bundle with its own copy of the class); anything else is a bug.
import type { SourceAt } from '../engine/errors';

export function isUserError(e: unknown): e is Error {
  return e instanceof Error && e.name === 'MemlensError';
}

export function isCancellation(e: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (e instanceof Error && e.name === 'AbortError');
}

/** One line for a notification. */
export function errorLine(e: unknown): string {
  if (isUserError(e)) return e.message;
  const message = e instanceof Error ? e.message : String(e);
  return `internal error: ${message.split('\n')[0]} (see the MemLens output for details)`;
}

/** The source line a user error names, if it carries one (checked: the error comes from another bundle). */
export function errorAt(e: unknown): SourceAt | undefined {
  if (!isUserError(e)) return undefined;
  const at = (e as { at?: unknown }).at;
  if (typeof at !== 'object' || at === null) return undefined;
  const { file, line } = at as Record<string, unknown>;
  return typeof file === 'string' && typeof line === 'number' && Number.isInteger(line) && line > 0 ? { file, line } : undefined;
}
