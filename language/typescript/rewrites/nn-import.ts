// How a model file reaches the markers of 'memlens/nn': through a namespace import (`nn.`), a
// named import (bare name), or not yet (an import to add). Adding is idempotent.
import { SyntaxKind, type SourceFile } from 'ts-morph';
import { positionAt, type TextEdit } from './text-edit';

export const NN_MODULE = 'memlens/nn';

export interface NnAccess {
  /** Text to call a marker: `nn.checkpoint` or `checkpoint`. */
  ref(name: string): string;
  /** Edits that make `names` importable (empty when they already are). */
  importEdits(file: string, names: string[]): TextEdit[];
}

export function nnAccess(sf: SourceFile): NnAccess {
  const decls = sf.getImportDeclarations().filter((d) => d.getModuleSpecifierValue() === NN_MODULE);
  const ns = decls.map((d) => d.getNamespaceImport()?.getText()).find(Boolean);
  if (ns) return { ref: (n) => `${ns}.${n}`, importEdits: () => [] };
  const named = decls.find((d) => !d.isTypeOnly() && d.getNamedImports().length > 0);
  const text = sf.getFullText();
  return {
    ref: (n) => localName(sf, n) ?? n,
    importEdits(file, names) {
      const have = new Set(decls.flatMap((d) => d.getNamedImports().filter((i) => !i.isTypeOnly()).map((i) => i.getName())));
      const missing = [...new Set(names)].filter((n) => !have.has(n)).sort();
      if (missing.length === 0) return [];
      if (named && !named.isTypeOnly()) {
        const imports = named.getNamedImports();
        const last = imports[imports.length - 1];
        const at = positionAt(text, last.getEnd());
        return [{ file, start: at, end: at, newText: missing.map((n) => `, ${n}`).join('') }];
      }
      const all = sf.getImportDeclarations();
      const after = all.length ? all[all.length - 1].getEnd() : 0;
      const at = positionAt(text, after);
      const line = `import { ${missing.join(', ')} } from '${NN_MODULE}';`;
      return [{ file, start: at, end: at, newText: all.length ? `\n${line}` : `${line}\n` }];
    },
  };
}

/** The local name of a named import from memlens/nn (`import { checkpoint as ckpt }`). */
function localName(sf: SourceFile, name: string): string | undefined {
  for (const d of sf.getImportDeclarations()) {
    if (d.getModuleSpecifierValue() !== NN_MODULE) continue;
    for (const i of d.getNamedImports()) if (i.getName() === name) return i.getAliasNode()?.getText() ?? name;
  }
  return undefined;
}

export { SyntaxKind };
