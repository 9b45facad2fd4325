// Where in the user's code an op was called: the innermost stack frame outside MemLens's own
// model API and tracer. Stack strings are used (not structured call sites) because Node maps
// them through source maps, so a transpiled `.ts` model reports its original lines.
import { findSourceMap, type SourceMapping } from 'module';
import * as path from 'path';
import { fileURLToPath } from 'url';
import type { SourceLocation } from '../../../extension/engine/graph';

/**
 * Folders holding the model API and the tracer: frames there are ours. Compiled code under
 * `out/` is listed with its source folder too, since source maps report frames at the `.ts`.
 */
const FRONT_END_DIRS = frontEndDirs(path.resolve(__dirname, '..'));

function frontEndDirs(compiled: string): string[] {
  const parts = compiled.split(path.sep);
  const out = parts.lastIndexOf('out');
  if (out < 0) return [compiled];
  return [compiled, [...parts.slice(0, out), ...parts.slice(out + 1)].join(path.sep)];
}

const FRAME = /^\s*at (?:.*? \()?(?:file:\/\/)?(.+?):(\d+):(\d+)\)?$/;

export interface Frame extends SourceLocation {
  column: number;
}

export function parseFrames(stack: string | undefined): Frame[] {
  if (!stack) return [];
  const frames: Frame[] = [];
  for (const line of stack.split('\n')) {
    const m = FRAME.exec(line);
    if (!m) continue;
    frames.push({ file: m[1], line: Number(m[2]), column: Number(m[3]) });
  }
  return frames;
}

export function isUserFrame(f: SourceLocation): boolean {
  const file = f.file;
  if (file.startsWith('node:') || !path.isAbsolute(file)) return false;
  if (file.includes(`${path.sep}node_modules${path.sep}`)) return false;
  return !FRONT_END_DIRS.some((dir) => file.startsWith(dir + path.sep));
}

/** Innermost user frame of a stack, or null. */
export function userFrame(stack: string | undefined): Frame | null {
  for (const f of parseFrames(stack)) if (isUserFrame(f)) return f;
  return null;
}

/**
 * The user frame calling into the API right now. It is asked for at every op of a trace, so it
 * reads V8's call sites instead of a stack string: formatting a string maps and prints every
 * frame, where this maps one frame at a time through its source map (as Node does for stack
 * strings: the same entry, the same 1-based line and column) until it meets a user frame.
 */
export function callerLocation(): Frame | null {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- only put back, never called here
  const previous = Error.prepareStackTrace;
  let sites: NodeJS.CallSite[] = [];
  Error.prepareStackTrace = (_error, callSites) => {
    sites = callSites;
    return '';
  };
  try {
    const holder: { stack?: string } = {};
    Error.captureStackTrace(holder, callerLocation);
    void holder.stack; // reading the stack is what runs prepareStackTrace
  } finally {
    Error.prepareStackTrace = previous;
  }
  for (const site of sites) {
    const frame = mappedFrame(site);
    if (frame && isUserFrame(frame)) return frame;
  }
  return null;
}

function mappedFrame(site: NodeJS.CallSite): Frame | null {
  const file = site.getFileName();
  const line = site.getLineNumber();
  const column = site.getColumnNumber();
  if (!file || line === null || column === null) return null;
  const map = process.sourceMapsEnabled ? findSourceMap(file) : undefined;
  if (map) {
    const entry = map.findEntry(line - 1, column - 1) as Partial<SourceMapping>;
    if (entry.originalSource && entry.originalLine !== undefined && entry.originalColumn !== undefined) {
      const source = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : entry.originalSource;
      return { file: source, line: entry.originalLine + 1, column: entry.originalColumn + 1 };
    }
  }
  return { file: file.startsWith('file://') ? fileURLToPath(file) : file, line, column };
}
