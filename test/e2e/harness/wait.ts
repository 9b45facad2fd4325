// Bounded waits: every wait has a deadline and says what it was waiting for when it runs out.

export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Thrown by a probe to stop waiting at once (the thing waited for can no longer happen). */
export class GiveUpWaiting extends Error {
  override readonly name = 'GiveUpWaiting';
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] : String(error);
}

/**
 * Calls `probe` until it returns something other than undefined/false, or fails after `timeoutMs`.
 * A probe that throws counts as "not yet" (its last error is quoted in the timeout message), except
 * GiveUpWaiting, which ends the wait at once.
 */
export async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      lastError = undefined;
    } catch (error) {
      if (error instanceof GiveUpWaiting) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause = lastError === undefined ? '' : ` (last error: ${describe(lastError)})`;
      throw new TimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

/** Rejects with a TimeoutError naming `what` if `promise` has not settled within `timeoutMs`. */
export async function withTimeout<T>(what: string, timeoutMs: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
