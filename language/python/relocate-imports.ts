// A Python model written to another folder (`fit --out`) keeps importing the modules that sit next
// to the original (`from gpt_decoder import GPT`): Python finds those through the folder of the
// script it runs, which the copy no longer shares. One `sys.path` line before the first import
// puts the original folder back on the path. A package-relative import (`from .layers import`)
// names a package the copy is not in, so that copy is refused (exit 3) in one line.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemlensError } from '../../extension/engine/errors';

export interface RelocatedPython {
  text: string;
  /** The modules next to the original that the inserted line keeps importable; empty: unchanged. */
  siblings: string[];
}

const FROM = /^\s*from\s+(\.*)([\w.]*)\s+import\b/;
const IMPORT = /^\s*import\s+([\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*)/;

/** Top-level module names each import line of `text` names, with relative imports marked. */
function importedModules(lines: string[]): { line: number; module: string; relative: boolean }[] {
  const out: { line: number; module: string; relative: boolean }[] = [];
  lines.forEach((l, i) => {
    const from = FROM.exec(l);
    if (from) {
      out.push({ line: i, module: from[2].split('.')[0], relative: from[1].length > 0 });
      return;
    }
    const imp = IMPORT.exec(l);
    if (imp) for (const part of imp[1].split(',')) out.push({ line: i, module: part.trim().split(/\s|\./)[0], relative: false });
  });
  return out;
}

const isModuleIn = (dir: string) => (name: string): boolean =>
  name !== '' && (fs.existsSync(path.join(dir, `${name}.py`)) || fs.existsSync(path.join(dir, name, '__init__.py')));

export function relocatePythonImports(text: string, fromFile: string, toFile: string, isSibling = isModuleIn(path.dirname(path.resolve(fromFile)))): RelocatedPython {
  const fromDir = path.dirname(path.resolve(fromFile));
  if (fromDir === path.dirname(path.resolve(toFile))) return { text, siblings: [] };
  const lines = text.split('\n');
  const imports = importedModules(lines);
  const relative = imports.find((i) => i.relative);
  if (relative) {
    throw new MemlensError(`fit: nothing written: ${path.basename(fromFile)}:${relative.line + 1} imports relative to its package, which a copy in ${path.dirname(path.resolve(toFile))} is not in; write it next to ${path.basename(fromFile)} or use --write`, 3);
  }
  const siblings = [...new Set(imports.filter((i) => isSibling(i.module)).map((i) => i.module))];
  if (siblings.length === 0) return { text, siblings };
  // Before the first top-level import that is not `from __future__` (those must stay first).
  const at = imports.find((i) => /^(from|import)\b/.test(lines[i.line]) && i.module !== '__future__');
  if (!at) {
    throw new MemlensError(`fit: nothing written: ${path.basename(fromFile)} imports ${siblings.join(', ')} only inside a block; a copy in another folder cannot import it; write it next to ${path.basename(fromFile)}`, 3);
  }
  const line = `import sys; sys.path.insert(0, ${JSON.stringify(fromDir)})  # memlens fit --out: ${siblings.join(', ')} ${siblings.length === 1 ? 'is' : 'are'} next to the original`;
  lines.splice(at.line, 0, line);
  return { text: lines.join('\n'), siblings };
}
