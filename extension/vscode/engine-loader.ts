// Loads the editor's heavy half (presentation/editor-api.ts) on first use. In the package it is a
// separate bundle (dist/engine.js) next to dist/extension.js; compiled with tsc it is
// out/extension/presentation/editor-api.js. Profiles and measured runs go to the engine worker
// instead (a worker thread, dist/engine-worker.js), so a long analysis never blocks the host.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineClient } from '../presentation/engine-client';

export type EngineApi = typeof import('../presentation/editor-api');

let loaded: EngineApi | undefined;

export function engine(): EngineApi {
  if (!loaded) {
    const candidates = [path.join(__dirname, 'engine.js'), path.join(__dirname, '..', 'presentation', 'editor-api.js')];
    const file = candidates.find((c) => fs.existsSync(c));
    if (!file) throw new Error(`MemLens engine not found (looked for ${candidates.join(', ')})`);
    // A computed path, so the bundler leaves the engine out of the start-up bundle.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
    loaded = require(file) as EngineApi;
  }
  return loaded;
}

/** The engine if something has loaded it already (shutting down must not load it). */
export function loadedEngine(): EngineApi | undefined {
  return loaded;
}

let worker: EngineClient | undefined;
/** Discovery for CodeLens has its own worker, so lenses never wait behind a profile. */
let discovery: EngineClient | undefined;

/** The engine worker: profileFile and measureFile off the extension host's thread. */
export function engineWorker(): EngineClient {
  worker ??= new EngineClient();
  return worker;
}

export function discoveryWorker(): EngineClient {
  discovery ??= new EngineClient();
  return discovery;
}

/** Stops the engine workers and what they keep (the TypeScript tracer), if they were started. */
export async function stopEngineWorker(): Promise<void> {
  await Promise.all([worker?.stop(), discovery?.stop()]);
}
