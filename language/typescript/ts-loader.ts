// Lets a child process `require` TypeScript model files: each `.ts` is transpiled in memory
// (TypeScript's transpileModule, no type check) with an inline source map, so stack frames and
// traced nodes point at the original lines; `memlens/nn` resolves to the compiled model API.
import * as fs from 'fs';
import * as path from 'path';
import NodeModule = require('module');
import { ts } from 'ts-morph';
import { MemlensError } from '../../extension/engine/errors';
import { displayPath } from './display-path';

interface LoaderInternals {
  _extensions: Record<string, (m: NodeModule & { _compile(code: string, file: string): void }, filename: string) => void>;
  _resolveFilename: (request: string, parent: unknown, ...rest: unknown[]) => string;
}

const API_SPECIFIERS = new Set(['memlens/nn', 'memlens/nn.js']);

/**
 * Transpiled output by file, kept while its source text stays the same: a warm trace worker
 * re-transpiles only the files that changed since the last trace.
 */
export class TranspileCache {
  private readonly entries = new Map<string, { source: string; output: string }>();
  /** Files transpiled (not served from the cache) so far. */
  transpiled = 0;

  get(source: string, filename: string): string {
    const hit = this.entries.get(filename);
    if (hit && hit.source === source) return hit.output;
    const output = transpile(source, filename);
    this.transpiled++;
    this.entries.set(filename, { source, output });
    return output;
  }
}

/** Installs the loader; returns the user files it has loaded (absolute paths) with the text each was loaded from. */
export function installTsLoader(apiEntry: string, cache = new TranspileCache()): Map<string, string> {
  process.setSourceMapsEnabled(true);
  const userFiles = new Map<string, string>();
  const internals = NodeModule as unknown as LoaderInternals;
  const resolve = internals._resolveFilename;
  internals._resolveFilename = (request, parent, ...rest) => (API_SPECIFIERS.has(request) ? apiEntry : resolve.call(NodeModule, request, parent, ...rest));
  internals._extensions['.ts'] = (m, filename) => {
    const source = fs.readFileSync(filename, 'utf8');
    userFiles.set(filename, source);
    m._compile(cache.get(source, filename), filename);
  };
  return userFiles;
}

export function transpile(source: string, filename: string): string {
  const out = ts.transpileModule(source, {
    fileName: filename,
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      inlineSourceMap: true,
      inlineSources: true,
      sourceRoot: path.dirname(filename),
    },
  });
  const error = out.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (error) {
    const where = error.file && error.start !== undefined ? error.file.getLineAndCharacterOfPosition(error.start).line + 1 : 1;
    throw new MemlensError(`${displayPath(filename)}:${where}: ${ts.flattenDiagnosticMessageText(error.messageText, ' ')}`);
  }
  return out.outputText;
}
