// Python parsing with tree-sitter (WebAssembly): one parser per process, loaded lazily.
// The two .wasm files are found at run time, so the same code works from `out/` (tsc), from a
// bundle that ships them next to itself, and from node_modules.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Language, Parser } from 'web-tree-sitter';
import type { Node, Tree } from 'web-tree-sitter';
import { MemlensError } from '../../extension/engine/errors';

export type { Node as SyntaxNode, Tree as SyntaxTree };

let ready: Promise<Parser> | undefined;

/** First existing file among the candidates; the bundle's own folder comes first. */
function locate(fileName: string, packageEntry: string): string {
  const candidates = [path.join(__dirname, fileName), path.join(__dirname, 'wasm', fileName)];
  try {
    candidates.push(path.join(path.dirname(require.resolve(packageEntry)), fileName));
  } catch {
    // not resolvable from here (bundled without node_modules): the folder candidates remain
  }
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new MemlensError(`cannot find ${fileName} (looked in ${candidates.join(', ')})`);
  return found;
}

async function load(): Promise<Parser> {
  const runtimeWasm = locate('web-tree-sitter.wasm', 'web-tree-sitter');
  await Parser.init({ locateFile: () => runtimeWasm });
  const language = await Language.load(new Uint8Array(fs.readFileSync(locate('tree-sitter-python.wasm', 'tree-sitter-python/package.json'))));
  const parser = new Parser();
  parser.setLanguage(language);
  return parser;
}

export function pythonParser(): Promise<Parser> {
  ready ??= load();
  return ready;
}

export async function parsePython(text: string): Promise<Tree> {
  const parser = await pythonParser();
  const tree = parser.parse(text);
  if (!tree) throw new Error('internal: tree-sitter returned no tree');
  return tree;
}
