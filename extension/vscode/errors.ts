// Errors from the engine bundle: user-facing ones are MemlensErrors (matched by name, since the
// engine is a separate bundle with its own copy of the class); anything else is a bug.

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
