// A model file written to another folder (`fit --out`) keeps its relative imports pointing at the
// same files: each './x' specifier is re-expressed relative to the new location.
import * as path from 'node:path';

const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*)\2/g;

export function relocateImports(text: string, fromFile: string, toFile: string): string {
  const fromDir = path.dirname(path.resolve(fromFile));
  const toDir = path.dirname(path.resolve(toFile));
  if (fromDir === toDir) return text;
  return text.replace(SPECIFIER, (_all, lead: string, quote: string, spec: string) => {
    let rel = path.relative(toDir, path.resolve(fromDir, spec)).split(path.sep).join('/');
    if (!rel.startsWith('.')) rel = `./${rel}`;
    return `${lead}${quote}${rel}${quote}`;
  });
}
