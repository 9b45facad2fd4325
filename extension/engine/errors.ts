// Errors meant for users: one short line that says what is wrong and where.
// Anything else that escapes is a bug, and front ends print it as such.

/** Where in the user's source an error is: an absolute path and a 1-based line. */
export interface SourceAt {
  file: string;
  line: number;
}

export class MemlensError extends Error {
  constructor(
    message: string,
    /** Exit code for the CLI: 2 bad input or usage. */
    readonly exitCode = 2,
    /** The source line the message names (a shape error in the model's code), for the editor's Problems. */
    readonly at: SourceAt | null = null,
  ) {
    super(message);
    this.name = 'MemlensError';
  }
}

export function isMemlensError(e: unknown): e is MemlensError {
  return e instanceof MemlensError;
}
