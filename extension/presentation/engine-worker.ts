// The engine worker: a worker thread that runs file-to-profile work (profileFile, measureFile) off
// the extension host's thread, so a graph that takes seconds blocks no extension. It answers
// every request of engine-protocol.ts with one reply; engine-client.ts starts and limits it.
import { parentPort } from 'node:worker_threads';
import { profileFile } from '../analysis/profile-file';
import { stopTraceWorker } from '../../language/typescript/trace';
import { measureFile } from './editor-api';
import { nullPrototype, type WorkerError, type WorkerMessage, type WorkerReply, type WorkerRequest } from './engine-protocol';

const port = parentPort;
if (!port) throw new Error('engine-worker.js runs as a worker thread');
const running = new Map<number, AbortController>();

function errorOf(e: unknown): WorkerError {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: String(e) };
}

async function serve(req: WorkerRequest): Promise<WorkerReply> {
  const controller = new AbortController();
  running.set(req.id, controller);
  try {
    const signal = controller.signal;
    const settings = { ...req.request.settings, dims: nullPrototype(req.request.settings.dims) };
    const outcome = req.kind === 'measure'
      ? await measureFile({ ...req.request, settings, signal })
      : await profileFile({ ...req.request, settings, signal });
    return { id: req.id, kind: 'done', outcome };
  } catch (e) {
    return { id: req.id, kind: 'failed', error: errorOf(e) };
  } finally {
    running.delete(req.id);
  }
}

port.on('message', (message: WorkerMessage) => {
  if (message.kind === 'cancel') running.get(message.id)?.abort();
  else if (message.kind === 'stop') void stopTraceWorker().finally(() => process.exit(0));
  else void serve(message).then((reply) => port.postMessage(reply));
});
