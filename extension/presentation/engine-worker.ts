// The engine worker: a worker thread that runs file-to-profile work (profiles, measured runs,
// suggestions, budget plans, entry discovery and suggestion placement) off the extension host's thread, so a graph that takes seconds
// blocks no extension. It answers every request of engine-protocol.ts with one reply (a profile
// or a measured run asked for its first figures sends them before);
// engine-client.ts starts and limits it.
import { parentPort } from 'node:worker_threads';
import { profileFile } from '../analysis/profile-file';
import { fitForFile, suggestForFile } from '../analysis/suggest-file';
import type { AnalysisSettings } from '../engine/settings';
import { MemlensError } from '../engine/errors';
import { sourceRewriter } from '../../language/source-rewrites';
import { measureFile, stopWorkers } from './editor-api';
import { modelEntries } from './model-entries';
import type { FirstFigures } from '../engine/analyze';
import { nullPrototype, type FirstCall, type WorkerError, type WorkerMessage, type WorkerReply, type WorkerRequest } from './engine-protocol';

const port = parentPort;
if (!port) throw new Error('engine-worker.js runs as a worker thread');
const running = new Map<number, AbortController>();

function errorOf(e: unknown): WorkerError {
  if (e instanceof MemlensError) return { name: e.name, message: e.message, stack: e.stack, at: e.at };
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: String(e) };
}

function restored(settings: AnalysisSettings): AnalysisSettings {
  return { ...settings, dims: nullPrototype(settings.dims), ...(settings.branches ? { branches: nullPrototype(settings.branches) } : {}) };
}

/** The callback that sends a two-step call's first figures, when the request asked for them. */
function firstSender(req: Extract<WorkerRequest, { kind: FirstCall }>): ((first: FirstFigures) => void) | undefined {
  if (!req.request.first) return undefined;
  return (result) => port?.postMessage({ id: req.id, kind: 'first', call: req.kind, result } satisfies WorkerReply);
}

async function call(req: WorkerRequest, signal: AbortSignal): Promise<WorkerReply> {
  const { id } = req;
  switch (req.kind) {
    case 'profile':
      return { id, kind: 'done', call: req.kind, result: await profileFile({ ...req.request, settings: restored(req.request.settings), signal, onFirst: firstSender(req) }) };
    case 'measure':
      return { id, kind: 'done', call: req.kind, result: await measureFile({ ...req.request, settings: restored(req.request.settings), signal, onFirst: firstSender(req) }) };
    case 'suggest':
      return { id, kind: 'done', call: req.kind, result: await suggestForFile({ ...req.request, settings: restored(req.request.settings), signal }) };
    case 'fit': {
      const { budgetBytes, target, ...rest } = req.request;
      return { id, kind: 'done', call: req.kind, result: await fitForFile({ ...rest, settings: restored(rest.settings), signal }, budgetBytes, target) };
    }
    case 'entries':
      return { id, kind: 'done', call: req.kind, result: await modelEntries(req.request.kind, req.request.file, req.request.text) };
    case 'place': {
      const { language, suggestions, file, text, modelFile } = req.request;
      const rewriter = await sourceRewriter(language);
      const result = [];
      for (const s of suggestions) result.push(await rewriter.place(s, file, text, modelFile));
      return { id, kind: 'done', call: req.kind, result };
    }
  }
}

async function serve(req: WorkerRequest): Promise<WorkerReply> {
  const controller = new AbortController();
  running.set(req.id, controller);
  port?.postMessage({ id: req.id, kind: 'started' } satisfies WorkerReply);
  try {
    return await call(req, controller.signal);
  } catch (e) {
    return { id: req.id, kind: 'failed', error: errorOf(e) };
  } finally {
    running.delete(req.id);
  }
}

port.on('message', (message: WorkerMessage) => {
  if (message.kind === 'cancel') running.get(message.id)?.abort();
  else if (message.kind === 'stop') void stopWorkers().finally(() => process.exit(0));
  else void serve(message).then((reply) => port.postMessage(reply));
});
