// The graph a default-optimised ONNX Runtime CPU session really runs (fusions, constant folding,
// NCHWc layout), written by ONNX Runtime itself (optimise-worker.ts, under the supervisor) and
// kept in a cache keyed by the model's bytes, the onnxruntime-node version and the session
// options, so the engine can estimate that session (engine/ort/held.ts, optimisedSession) from
// the very graph ORT builds rather than from a model of its fusions.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { MemlensError } from '../engine/errors';
import { endingError, lastLine, oneLine } from '../process/ending';
import { defaultMemoryLimit, superviseChild } from '../process/supervisor';
import { checkOptimiseMessage, type OptimiseMessage, type OptimiseStart } from './optimise-messages';
import { DEFAULT_SEED } from './run';
import { sessionOptions } from './session-options';
import { makeRunDir, removeRunDir } from '../process/run-dir';

export interface OptimisedGraph {
  /** The optimised model ORT wrote. */
  path: string;
  ortVersion: string;
  cached: boolean;
}

export interface OptimiseOptions {
  cacheDir: string;
  timeoutMs: number;
  memoryLimitBytes?: number;
  signal?: AbortSignal;
}

function ortVersion(): string {
  const file = require.resolve('onnxruntime-node/package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

/** The cache key: the model's content, the runtime's version and the options the session is made with. */
export function optimisedGraphKey(modelBytes: Buffer, version: string): string {
  const options = JSON.stringify(sessionOptions('', 'cpu', 'all', false));
  return crypto.createHash('sha256').update(modelBytes).update(`\0${version}\0${options}`).digest('hex').slice(0, 24);
}

export async function optimisedGraph(modelPath: string, options: OptimiseOptions): Promise<OptimisedGraph> {
  const source = path.resolve(modelPath);
  if (!fs.existsSync(source)) throw new MemlensError(`${modelPath}: no such file`);
  const version = ortVersion();
  const out = path.join(options.cacheDir, `${optimisedGraphKey(fs.readFileSync(source), version)}.onnx`);
  if (fs.existsSync(out)) return { path: out, ortVersion: version, cached: true };
  fs.mkdirSync(options.cacheDir, { recursive: true });
  const workDir = makeRunDir('memlens-optimise-');
  try {
    const partial = path.join(workDir, 'optimised.onnx');
    const memoryLimitBytes = options.memoryLimitBytes ?? defaultMemoryLimit();
    const start: OptimiseStart = { modelPath: source, outputPath: partial, workDir, seed: DEFAULT_SEED, memoryLimitBytes };
    const reply = await write(start, modelPath, options);
    if (reply.type === 'error') throw new MemlensError(oneLine(`${modelPath}: ONNX Runtime could not optimise the model: ${reply.message}`));
    fs.renameSync(partial, out);
    return { path: out, ortVersion: reply.ortVersion, cached: false };
  } finally {
    removeRunDir(workDir);
  }
}

async function write(start: OptimiseStart, where: string, options: OptimiseOptions): Promise<OptimiseMessage> {
  const run = await superviseChild<OptimiseMessage>({
    what: 'graph optimisation',
    program: { kind: 'node', module: path.join(__dirname, 'optimise-worker.js'), request: start },
    limits: { timeoutMs: options.timeoutMs, memoryBytes: start.memoryLimitBytes, outputBytes: 4096 },
    env: { ORT_DISABLE_TELEMETRY: '1' },
    tempDir: start.workDir,
    signal: options.signal,
    messages: checkOptimiseMessage,
  });
  if (run.reply) return run.reply;
  throw endingError(`graph optimisation of ${where}`, run.ending, { context: 'while ONNX Runtime optimised the graph', lastError: lastLine(run.stderr.text) });
}
