// The one protocol between the extension host and the engine worker (engine-worker.ts): each
// request is a typed record, and so is each reply; an error travels as its name and one line.
import type { ProfileOutcome, ProfileRequest } from '../analysis/profile-file';
import type { MeasureRequest } from './editor-api';

/** A request as it crosses the thread boundary: everything but the AbortSignal (cancel is a message). */
export type Sendable<R> = Omit<R, 'signal'>;

export type WorkerRequest =
  | { id: number; kind: 'profile'; request: Sendable<ProfileRequest> }
  | { id: number; kind: 'measure'; request: Sendable<MeasureRequest> };

export type WorkerMessage =
  | WorkerRequest
  /** Abort request `id`: its AbortSignal fires in the worker. */
  | { id: number; kind: 'cancel' }
  /** Stop the kept children (the TypeScript tracer) and exit. */
  | { id: 0; kind: 'stop' };

/** The error of a failed request: `name` tells a MemlensError (the user's one line) from a bug. */
export interface WorkerError {
  name: string;
  message: string;
  stack?: string;
}

export type WorkerReply =
  | { id: number; kind: 'done'; outcome: ProfileOutcome }
  | { id: number; kind: 'failed'; error: WorkerError };

/**
 * Dim tables are null-prototype objects (a dim named `constructor` is not already bound); a
 * structured clone gives them Object.prototype again, so each side restores them on receipt.
 */
export function nullPrototype<T extends object>(table: T): T {
  return Object.assign(Object.create(null) as T, table);
}
