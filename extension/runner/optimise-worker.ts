// The child that has ONNX Runtime write the graph a default-optimised session runs: a level-'all'
// CPU session with the runner's own options (session-options.ts), its optimizedModelFilePath set.
// Started by optimised-graph.ts under the supervisor; a crash or hang in the runtime ends only it.
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { isMemlensError } from '../engine/errors';
import { prepareModel } from './materialise';
import { sessionOptions } from './session-options';
import type { OptimiseMessage, OptimiseStart } from './optimise-messages';

function send(m: OptimiseMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(m, undefined, undefined, () => resolve());
  });
}

async function write(start: OptimiseStart): Promise<OptimiseMessage> {
  const options = { ...sessionOptions(start.workDir, 'cpu', 'all', false), optimizedModelFilePath: start.outputPath };
  try {
    // Weights a traced model does not carry are filled as the run fills them (the same seed), so
    // the written graph is the one the run's optimised session builds.
    const prepared = prepareModel({ modelPath: start.modelPath, baseDir: path.dirname(start.modelPath), where: start.modelPath, memoryLimitBytes: start.memoryLimitBytes, seed: start.seed, workDir: start.workDir });
    const session = await ort.InferenceSession.create(prepared.path, options);
    await session.release();
    return { type: 'written', ortVersion: ort.env.versions.common };
  } catch (e) {
    if (isMemlensError(e)) return { type: 'error', message: e.message.split('\n')[0] };
    const text = (e instanceof Error ? e.message : String(e)).split('\n')[0].trim();
    return { type: 'error', message: text.length > 240 ? `${text.slice(0, 237)}...` : text };
  }
}

process.on('disconnect', () => process.exit(1));
process.once('message', (m: OptimiseStart) => {
  void write(m).then(send).then(() => process.exit(0));
});
