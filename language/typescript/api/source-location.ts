// Where in the user's code an op was called: the innermost stack frame outside MemLens's own
// model API and tracer. Stack strings are used (not structured call sites) because Node maps
// them through source maps, so a transpiled `.ts` model reports its original lines.
import * as path from 'path';
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

/** The user frame calling into the API right now. */
export function callerLocation(): Frame | null {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, callerLocation);
  return userFrame(holder.stack);
}
