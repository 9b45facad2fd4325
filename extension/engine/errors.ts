// Errors meant for users: one short line that says what is wrong and where.
// Anything else that escapes is a bug, and front ends print it as such.

export class MemlensError extends Error {
  constructor(
    message: string,
    /** Exit code for the CLI: 2 bad input or usage. */
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'MemlensError';
  }
}

export function isMemlensError(e: unknown): e is MemlensError {
  return e instanceof MemlensError;
}
