// The one protocol between the extension host and the engine worker (engine-worker.ts): each
// call is a typed request paired with its typed result; an error travels as its name and line.
import type { ProfileOutcome, ProfileRequest } from '../analysis/profile-file';
import type { PlanOutcome, SuggestionSet, SuggestRequest } from '../analysis/suggest-file';
import type { PlanTarget } from '../engine/suggest/planner';
import type { MeasureRequest } from './editor-api';
import type { ModelKind } from '../analysis/model-kind';
import type { ModelEntry } from './model-entries';
import type { SourceLanguage, SuggestionPlacement } from '../../language/source-rewrites';
import type { Suggestion } from '../engine/suggest/types';
import type { SourceAt } from '../engine/errors';
import type { FirstFigures } from '../engine/analyze';

/**
 * A request as it crosses the thread boundary: everything but the AbortSignal (cancel is a
 * message) and the first-figures callback (`first` asks for them; they come as a reply).
 */
export type Sendable<R> = Omit<R, 'signal' | 'onFirst'>;

/** Each call the worker serves: what it is sent and what it answers. */
export interface WorkerCalls {
  /** `first`: also reply with the first figures, as soon as the graph is analysed (FirstFigures). */
  profile: { request: Sendable<ProfileRequest> & { first: boolean }; result: ProfileOutcome; first: FirstFigures };
  measure: { request: Sendable<MeasureRequest> & { first: boolean }; result: ProfileOutcome; first: FirstFigures };
  suggest: { request: Sendable<SuggestRequest>; result: SuggestionSet };
  fit: { request: Sendable<SuggestRequest> & { budgetBytes: number; target: PlanTarget }; result: PlanOutcome };
  /** Static discovery for CodeLens (ts-morph takes seconds on a large file): no user code runs. */
  entries: { request: { kind: ModelKind; file: string; text: string }; result: ModelEntry[] };
  /** Where each suggestion applies in this text (code actions; ts-morph or tree-sitter), in order. */
  place: { request: { language: SourceLanguage; suggestions: Suggestion[]; file: string; text: string; modelFile: string }; result: (SuggestionPlacement | null)[] };
}

export type CallKind = keyof WorkerCalls;

/** The calls that can answer in two steps: their first figures, then their result. */
export type FirstCall = { [K in CallKind]: WorkerCalls[K] extends { first: unknown } ? K : never }[CallKind];

export type WorkerRequest = { [K in CallKind]: { id: number; kind: K; request: WorkerCalls[K]['request'] } }[CallKind];

export type WorkerMessage =
  | WorkerRequest
  /** Abort request `id`: its AbortSignal fires in the worker. */
  | { id: number; kind: 'cancel' }
  /** Stop the kept children (the TypeScript tracer, the Python workers) and exit. */
  | { id: 0; kind: 'stop' };

/** The error of a failed request: `name` tells a MemlensError (the user's one line) from a bug. */
export interface WorkerError {
  name: string;
  message: string;
  stack?: string;
  /** A MemlensError's source line (a shape or trace error), for the editor's Problems panel. */
  at?: SourceAt | null;
}

/** A result answers the request with the same id, so it has that request's kind. */
export type WorkerReply =
  /** The worker began request `id` (the time limit counts from here, not from a wait in its queue). */
  | { id: number; kind: 'started' }
  /** The first step of a two-step call: figures that its result will hold unchanged. */
  | { [K in FirstCall]: { id: number; kind: 'first'; call: K; result: WorkerCalls[K]['first'] } }[FirstCall]
  | { [K in CallKind]: { id: number; kind: 'done'; call: K; result: WorkerCalls[K]['result'] } }[CallKind]
  | { id: number; kind: 'failed'; error: WorkerError };

/**
 * Dim tables are null-prototype objects (a dim named `constructor` is not already bound); a
 * structured clone gives them Object.prototype again, so each side restores them on receipt.
 */
export function nullPrototype<T extends object>(table: T): T {
  return Object.assign(Object.create(null) as T, table);
}
