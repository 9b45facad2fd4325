// Where a model file's entries are (for CodeLens): plain data from the language front ends'
// static discovery; nothing here runs the user's code.
import * as path from 'node:path';
import type { ModelKind } from '../analysis/model-kind';
import { discoverPython, isBuilderName } from '../../language/python/discovery';
import { chooseEntry } from '../../language/python/entry';

export interface ModelEntry {
  name: string;
  /** 1-based line of the declaration. */
  line: number;
  /** Whether profiling without an explicit entry picks this one. */
  isDefault: boolean;
}

/** Entries of a model file from static discovery (no user code runs). */
export async function modelEntries(kind: ModelKind, file: string, text: string): Promise<ModelEntry[]> {
  const fileLabel = path.basename(file);
  // The tracer profiles the first entry the file declares when none is named.
  if (kind === 'typescript') {
    // ts-morph (with its TypeScript, 13 MB) loads on the first TypeScript discovery, not with the
    // engine: a worker that only profiles, or a Python or ONNX file, never evaluates it.
    const { discoverEntries } = await import('../../language/typescript/discovery');
    return discoverEntries(file, text).entries.map((e, i) => ({ name: e.name, line: e.startLine, isDefault: i === 0 }));
  }
  if (kind !== 'python') return [];
  const d = await discoverPython(text);
  let chosen: string | null = null;
  let mainEntry: ModelEntry | null = null;
  try {
    const choice = chooseEntry(d, fileLabel);
    // A script's first model call is found by running it; discovery's choice marks the lens.
    const c = choice.source === 'script' ? choice.fallback : choice;
    if (c?.request.kind === 'name') chosen = c.request.name;
    // The `__main__` block builds the model with an expression: its lens goes on that line.
    else if (c && d.main?.model) mainEntry = { name: c.label, line: d.main.model.line, isDefault: true };
  } catch {
    // no buildable entry: the lenses still mark the modules
  }
  const entries: ModelEntry[] = [
    ...d.classes.filter((c) => c.forward !== null).map((c) => ({ name: c.name, line: c.line, isDefault: c.name === chosen })),
    ...d.functions.filter((f) => f.requiredArgs.length === 0 && (isBuilderName(f.name) || f.name === chosen))
      .map((f) => ({ name: f.name, line: f.line, isDefault: f.name === chosen })),
    ...(mainEntry ? [mainEntry] : []),
  ];
  return entries.sort((a, b) => a.line - b.line);
}
